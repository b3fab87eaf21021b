import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bundleFleetApp,
  descriptionOf,
  jobIdOf,
  originalEdits,
  sendStylize,
  testBotEnv,
  writeTestModels,
} from "./bot-helpers.js";
import { shardOf } from "./discord-double/gateway.js";
import { type DiscordDouble, type SentInteraction, startDiscordDouble } from "./discord-double/index.js";
import { deletePrefix, REDIS_URL, redisReachable, skipNotice, testPrefix } from "./helpers/redis.js";

/**
 * The fleet as it is deployed, on a real Redis: two `npm run worker` processes and the bot as two shard
 * processes (`npm run start:sharded`) on the loopback Discord double with two servers, one per shard.
 * Jobs spread over both workers and each server's replies come from its own shard; a member's limit
 * holds when their commands reach both shards at once; a worker killed with -9 mid-job does not lose
 * the job; Cancel reaches the worker painting the job; a shard killed with -9, and the whole bot
 * stopped and started again, lose nothing and deliver nothing twice.
 */

const reachable = await redisReachable();
if (!reachable) skipNotice("test/fleet.test.ts");

const member = (n: number) => ({ id: `20000000000000010${n}`, username: `member${n}` });

interface LogLine {
  msg?: string;
  jobId?: string;
  userId?: string;
  worker?: string;
  shard?: number;
  pid?: number;
  reason?: string;
  component?: string;
}

/** A child process whose stdout is pino JSON lines, kept for the test to look at. */
class Logged {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  output = "";
  constructor(readonly child: ChildProcess) {
    let partial = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        this.output += `${line}\n`;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  async waitFor(check: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const found = await until(() => this.lines.find(check), timeoutMs).catch(() => undefined);
    if (!found)
      throw new Error(`no such log line within ${timeoutMs} ms; output:\n${this.output.slice(-4000)}`);
    return found;
  }

  kill9(): Promise<number | null> {
    this.child.kill("SIGKILL");
    return this.exited;
  }
}

async function until<T>(check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let double: DiscordDouble;
let dir: string;
let app: string;
let env: Record<string, string>;
let prefix: string;
const running = new Set<Logged>();
/** The two servers, in shard order: guilds[i] is on shard i. */
let guilds: [string, string];

function start(script: string, extraEnv: Record<string, string> = {}): Logged {
  const child = spawn(process.execPath, [path.join(app, script)], {
    cwd: dir,
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logged = new Logged(child);
  running.add(logged);
  void logged.exited.then(() => running.delete(logged));
  return logged;
}

async function startWorker(): Promise<Logged> {
  const worker = start("worker-main.js");
  await worker.waitFor((l) => l.msg === "worker ready");
  return worker;
}

/** `npm run start:sharded`; resolves once both shards are ready. */
async function startBot(): Promise<Logged> {
  const bot = start("sharded-main.js");
  await bot.waitFor((l) => l.msg === "all shards ready", 120_000);
  return bot;
}

const ok = (sent: SentInteraction) => originalEdits(double, sent.token).filter((r) => r.status < 300);
const said = (sent: SentInteraction, text: string) => ok(sent).some((r) => descriptionOf(r).includes(text));
const results = (sent: SentInteraction) =>
  ok(sent).filter((r) => descriptionOf(r).includes("your painting is ready"));

/** /stylize from member `n` in a server; resolves once the bot answered. */
async function stylize(n: number, guildId: string): Promise<SentInteraction> {
  const sent = await sendStylize(double, member(n), { style: "wave-test", size: 32 }, [64, 48], {
    guildId,
  });
  await until(() => ok(sent).length > 0);
  return sent;
}

/** Waits until the job is in the queue or painting (past the bot's own work). */
const queued = (sent: SentInteraction) =>
  until(() => said(sent, "in the queue") || said(sent, "Painting —") || results(sent).length > 0);

/** Everything the bot said in answer to an interaction (its callback and its webhook calls). */
async function textsOf(sent: SentInteraction): Promise<string> {
  const callback = await sent.response;
  const calls = double.requests.filter((r) => r.path.includes(sent.token)).map((r) => JSON.stringify(r.json));
  return [JSON.stringify(callback.data ?? {}), ...calls].join("\n");
}

/** Waits until each reply shows its painting, then checks none shows it twice. */
async function deliveredOnce(sends: SentInteraction[]): Promise<void> {
  for (const sent of sends) await until(() => results(sent)[0], 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const sent of sends) expect(results(sent)).toHaveLength(1);
}

const linesOf = (processes: Logged[], msg: string) =>
  processes.flatMap((p) => p.lines.filter((l) => l.msg === msg));

let workers: Logged[];
let bot: Logged;

beforeAll(async () => {
  if (!reachable) return;
  double = await startDiscordDouble({ guilds: 2 });
  const ids = double.worlds.map((w) => w.guildId);
  guilds = [ids.find((id) => shardOf(id, 2) === 0)!, ids.find((id) => shardOf(id, 2) === 1)!];
  dir = await mkdtemp(path.join(tmpdir(), "stylize-fleet-"));
  prefix = testPrefix("e2e");
  const [models, bundled] = await Promise.all([writeTestModels(dir), bundleFleetApp()]);
  app = bundled;
  env = {
    ...testBotEnv(dir, double, models),
    PATH: process.env.PATH ?? "",
    DISCORD_API_URL: double.apiBase,
    REDIS_URL,
    STYLIZE_REDIS_PREFIX: prefix,
    STYLIZE_SHARDS: "2",
    STYLIZE_CONCURRENCY: "1",
    STYLIZE_PER_USER_LIMIT: "1",
    STYLIZE_WORKER_LOCK_S: "2",
    STYLIZE_THREADS: "1",
    // Small paintings: these tests are about the plumbing.
    STYLIZE_DEFAULT_SIZE: "32",
    LOG_LEVEL: "info",
  };
  workers = await Promise.all([startWorker(), startWorker()]);
  bot = await startBot();
}, 180_000);
afterAll(async () => {
  for (const process of running) await process.kill9();
  await double?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (app) await rm(app, { recursive: true, force: true });
  if (prefix) await deletePrefix(prefix);
});

// Several shard, worker and engine processes on a loaded machine: generous limits.
describe.skipIf(!reachable)("a fleet: two workers, two shards, one Redis", { timeout: 240_000 }, () => {
  it("spreads jobs over both workers; each server's progress and result come from its own shard", async () => {
    const sends = await Promise.all([stylize(1, guilds[0]), stylize(2, guilds[1])]);
    await deliveredOnce(sends);
    const ids = sends.map((sent) => jobIdOf(double, sent.token));
    for (const sent of sends) expect(said(sent, "Painting —")).toBe(true);
    const painters = workers.map(
      (w) => linesOf([w], "job done").filter((l) => ids.includes(l.jobId!)).length,
    );
    expect(painters).toEqual([1, 1]);
    ids.forEach((jobId, shard) => {
      const recorded = linesOf([bot], "job done").filter((l) => l.jobId === jobId && l.component === "jobs");
      expect(recorded.map((l) => l.shard)).toEqual([shard]);
    });
  });

  it("holds a member's limit when their commands reach both shards at once; Cancel reaches the worker", async () => {
    const both = await Promise.all(
      guilds.map((guildId) =>
        sendStylize(double, member(3), { style: "wave-test", size: 32 }, [64, 48], { guildId }),
      ),
    );
    const accepted = await until(() => both.find((sent) => said(sent, "Painting —")));
    const texts = await Promise.all(both.map(textsOf));
    expect(texts.filter((t) => t.includes("you already have 1 job"))).toHaveLength(1);
    // The accepted job is painting on a worker; its Cancel button goes to its server's shard.
    const jobId = jobIdOf(double, accepted.token);
    const messageId = double.originalResponse(accepted.token)!.id;
    double.clickButton({ customId: `cancel:${jobId}`, messageId, user: member(3) });
    await until(() => said(accepted, `Cancelled by <@${member(3).id}>`));
    await until(() =>
      linesOf(workers, "job stopped").some((l) => l.jobId === jobId && l.reason === "cancelled"),
    );
    expect(results(accepted)).toHaveLength(0);
  });

  it("a worker killed with -9 mid-job: another worker paints the job", async () => {
    const sent = await stylize(4, guilds[1]);
    const started = await until(() => linesOf(workers, "job started").find((l) => l.userId === member(4).id));
    const victim = workers.find((w) => w.lines.includes(started))!;
    await victim.kill9();
    await deliveredOnce([sent]);
    const survivor = workers.find((w) => w !== victim)!;
    expect(survivor.lines.some((l) => l.msg === "job started" && l.jobId === started.jobId)).toBe(true);
    // The killed worker's engine process went quietly (no EPIPE noise).
    expect(victim.output).not.toMatch(/EPIPE/);
    workers = [survivor, await startWorker()];
  });

  it("a job whose worker dies twice fails with a message to the member", async () => {
    const sent = await stylize(9, guilds[0]);
    const startedOn = (process: Logged) =>
      process.lines.find((l) => l.msg === "job started" && l.userId === member(9).id);
    const first = await until(() => workers.find(startedOn));
    await first.kill9();
    const second = workers.find((w) => w !== first)!;
    await until(() => startedOn(second), 60_000);
    await second.kill9();
    // A new worker's stalled-job check finds the job's second death and fails it.
    workers = [await startWorker()];
    await until(() => said(sent, "the painting stopped twice because its worker went away"), 60_000);
    expect(results(sent)).toHaveLength(0);
    workers.push(await startWorker());
  });

  it("a shard killed with -9 is started again and delivers its server's jobs once", async () => {
    const sends = [await stylize(5, guilds[1]), await stylize(6, guilds[1])];
    for (const sent of sends) await queued(sent);
    const shardPid = linesOf([bot], "shard started").findLast((l) => l.shard === 1)!.pid!;
    process.kill(shardPid, "SIGKILL");
    await until(() => linesOf([bot], "shard started").some((l) => l.shard === 1 && l.pid !== shardPid));
    await deliveredOnce(sends);
  });

  it("the whole bot stopped and started again: the workers went on, and each result is delivered once", async () => {
    const sends = [await stylize(7, guilds[0]), await stylize(8, guilds[1])];
    for (const sent of sends) await queued(sent);
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    // While no bot runs, the workers finish the jobs.
    for (const n of [7, 8])
      await until(() => linesOf(workers, "job done").some((l) => l.userId === member(n).id));
    bot = await startBot();
    await deliveredOnce(sends);
  });
});
