import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  bundleBotApp,
  descriptionOf,
  originalEdits,
  sendStylize,
  testBotEnv,
  writeTestModels,
} from "./bot-helpers.js";
import {
  type DiscordDouble,
  type RecordedRequest,
  type SentInteraction,
  startDiscordDouble,
} from "./discord-double/index.js";

/**
 * The bot process killed with -9 (no shutdown code runs) and started again on the same data dir: every job
 * that was queued or running reaches a result or a reported failure, none is lost and none is delivered
 * twice — including a result whose delivery was under way when the bot died.
 */

const CAROL = { id: "200000000000000003", username: "carol" };

let double: DiscordDouble;
let dir: string;
let app: { main: string; dir: string };
let env: Record<string, string>;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  double = await startDiscordDouble();
  dir = await mkdtemp(path.join(tmpdir(), "stylize-kill-"));
  const [models, bundled] = await Promise.all([writeTestModels(dir), bundleBotApp()]);
  app = bundled;
  env = {
    ...testBotEnv(dir, double, models),
    PATH: process.env.PATH ?? "",
    DISCORD_API_URL: double.apiBase,
    STYLIZE_CONCURRENCY: "1",
    LOG_LEVEL: "info",
  };
});
afterAll(async () => {
  for (const child of running) child.kill("SIGKILL");
  await double?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(app.dir, { recursive: true, force: true });
});

/** Starts `node main.js` (what `npm start` runs) and resolves once it logged "bot ready". */
async function startBot(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [app.main], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bot did not get ready:\n${output}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"bot ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`the bot exited (${code}):\n${output}`)));
  });
  return child;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  return exited;
}

function engineChildren(pid: number): number[] {
  try {
    // Node processes only: the bot's memory watch (pidusage) briefly runs a shell for `getconf` too.
    return execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter(([, command]) => command === "node")
      .map(([child]) => Number(child));
  } catch {
    return []; // ps exits 1 when there are none
  }
}

const ok = (sent: SentInteraction) => originalEdits(double, sent.token).filter((r) => r.status < 300);
const results = (sent: SentInteraction) =>
  ok(sent).filter((r) => descriptionOf(r).includes("your painting is ready"));

async function until<T>(check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Several bot and engine processes start in each test: generous limits for a loaded machine.
describe("kill -9 of the bot", { timeout: 180_000 }, () => {
  it("takes up every queued and running job after a restart; each ends once", async () => {
    const first = await startBot();
    const sends: SentInteraction[] = [];
    for (const user of [ALICE, BOB, CAROL]) {
      // Alice's job (the default 48 px) runs long enough to be killed mid-run; the others (32 px) are
      // quick once they run.
      const options = user === ALICE ? { style: "wave-test" } : { style: "wave-test", size: 32 };
      const sent = await sendStylize(double, user, options, [64, 48]);
      await until(() => ok(sent).length > 0);
      sends.push(sent);
    }
    const [alice, bob, carol] = sends as [SentInteraction, SentInteraction, SentInteraction];
    await until(() => ok(alice).some((r) => descriptionOf(r).includes("Painting —")));
    expect(ok(carol).some((r) => descriptionOf(r).includes("in the queue"))).toBe(true);
    const engines = engineChildren(first.pid!);
    expect(engines.length).toBe(1);

    await kill9(first);
    // The orphaned engine process notices its parent is gone and ends too.
    await until(
      () => engineChildren(1).every((pid) => !engines.includes(pid)) && !isAlive(engines[0]!),
      10_000,
    );

    const restartedAt = Date.now();
    const second = await startBot();
    try {
      for (const sent of [alice, bob, carol]) {
        const done = await until(() => results(sent)[0]);
        expect(done.at).toBeGreaterThan(restartedAt);
        expect(done.files.some((f) => f.name.startsWith("stylized-"))).toBe(true);
      }
      // Each exactly once, and in the reply the member was already looking at (no new channel posts).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const sent of [alice, bob, carol]) expect(results(sent)).toHaveLength(1);
      const posts = double.requests.filter(
        (r) => r.method === "POST" && r.route === `/channels/${double.channelId}/messages`,
      );
      expect(posts).toEqual([]);
    } finally {
      await kill9(second);
    }
  });

  it("delivers a result once when the bot died while delivering it", async () => {
    const first = await startBot();
    const sent = await sendStylize(double, ALICE, { style: "wave-test", size: 32 });
    await until(() => ok(sent).length > 0);
    // Discord answers 503 to the reply's edits: the result is finished, stored, and stuck in delivery.
    double.injectError(
      { method: "PATCH", route: "/webhooks/:application/:token/messages/@original", forMs: 120_000 },
      { httpStatus: 503 },
    );
    const refused = (r: RecordedRequest) =>
      r.path.includes(sent.token) && r.status === 503 && descriptionOf(r).includes("your painting is ready");
    await until(() => double.requests.find(refused));
    await kill9(first);
    double.clearInjectedErrors();

    const second = await startBot();
    try {
      const delivered = await until(() => results(sent)[0]);
      expect(delivered.files.some((f) => f.name.startsWith("stylized-"))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(results(sent)).toHaveLength(1);
    } finally {
      await kill9(second);
    }
  });
});

describe("SIGTERM", { timeout: 180_000 }, () => {
  it("lets the running job finish within the grace, tells the queued one, exits 0, and runs it after the restart", async () => {
    env.STYLIZE_SHUTDOWN_GRACE_S = "60";
    const first = await startBot();
    const alice = await sendStylize(double, ALICE, { style: "wave-test", size: 32 });
    await until(() => ok(alice).some((r) => descriptionOf(r).includes("Painting —")));
    // Only now: sent together while the engine was still starting, the fair queue took Bob's job first
    // (Alice had painted in the tests above), and the test waited for a queue position Bob never had.
    const bob = await sendStylize(double, BOB, { style: "wave-test", size: 32 });
    await until(() => ok(bob).some((r) => descriptionOf(r).includes("in the queue")));
    const exited = exitOf(first);
    first.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(results(alice)).toHaveLength(1); // finished within the grace, before the exit
    expect(descriptionOf(ok(bob).at(-1)!)).toContain("the bot is restarting");

    const second = await startBot();
    try {
      await until(() => results(bob)[0]);
      expect(results(alice)).toHaveLength(1);
    } finally {
      await kill9(second);
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
