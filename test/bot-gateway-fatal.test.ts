import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_GATEWAY_FATAL } from "../src/bot/gateway-fatal.js";
import { bundleForNode, writeTestModels } from "./bot-helpers.js";
import { type DiscordDouble, startDiscordDouble } from "./discord-double/index.js";

/**
 * The real entry point (`npm start`) as a child process against the loopback Discord: closes it cannot
 * recover from end the process loudly; the ones it can are ridden out.
 */

let main: string;
let dir: string;
let models: { weights: string; manifest: string };

beforeAll(async () => {
  main = await bundleForNode(path.resolve("src/main.ts"), "bot-main-gateway");
  dir = await mkdtemp(path.join(tmpdir(), "stylize-gateway-"));
  models = await writeTestModels(dir);
}, 60_000);
afterAll(async () => {
  await rm(main, { force: true });
  await rm(dir, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  closeCode?: number;
  err?: { message?: string };
}

interface RunningBot {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  readonly exited: Promise<{ code: number | null; at: number }>;
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

function startBot(double: DiscordDouble, env: Record<string, string> = {}): RunningBot {
  const child = spawn(process.execPath, [main], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      DISCORD_TOKEN: double.token,
      DISCORD_API_URL: double.apiBase,
      STYLIZE_BACKEND: "cpu",
      STYLIZE_WEIGHTS: models.weights,
      STYLIZE_MODELS_DIR: dir,
      STYLIZE_PRESETS_MANIFEST: models.manifest,
      STYLIZE_DATA_DIR: path.join(dir, `data-${Math.random().toString(36).slice(2)}`),
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split("\n");
    buffered = complete.pop() ?? "";
    for (const text of complete.filter(Boolean)) {
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        lines.push({ level: 0, msg: text });
      }
    }
  });
  child.stderr?.resume();
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once("exit", (code) => resolve({ code, at: Date.now() })),
  );
  const waitForLine = async (match: (line: LogLine) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines.find(match);
      if (line) return line;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`no such log line; got:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { child, lines, exited, waitForLine };
}

const FATAL = 60;

/** The child's exit, or `still running` once `ms` have passed. */
function exitWithin(
  bot: RunningBot,
  ms: number,
): Promise<{ code: number | null | "still running"; at: number }> {
  const timeout = new Promise<{ code: "still running"; at: number }>((resolve) =>
    setTimeout(() => resolve({ code: "still running", at: Date.now() }), ms),
  );
  return Promise.race([bot.exited, timeout]);
}

describe("gateway closes the bot cannot recover from", () => {
  it.each([
    [4004, /authentication failed.*token/],
    [4014, /disallowed intents/],
    [4010, /invalid shard/],
  ])(
    "close %i: a fatal log line naming the reason and a non-zero exit within 5 s",
    async (code, reason) => {
      const double = await startDiscordDouble();
      const bot = startBot(double);
      try {
        await bot.waitForLine((line) => line.msg === "bot ready");
        const closedAt = Date.now();
        double.disconnectGateway(code);
        const exit = await exitWithin(bot, 5000);
        expect(exit.code).toBe(EXIT_GATEWAY_FATAL);
        console.log(`close ${code}: exited ${exit.at - closedAt} ms after the close`);
        const fatal = bot.lines.find((line) => line.level === FATAL);
        expect(fatal?.closeCode).toBe(code);
        expect(fatal?.msg).toMatch(reason);
      } finally {
        bot.child.kill("SIGKILL");
        await double.close();
      }
    },
    60_000,
  );

  it("a token Discord refuses at start: a fatal log line and a non-zero exit within 5 s", async () => {
    const double = await startDiscordDouble();
    const startedAt = Date.now();
    const bot = startBot(double, { DISCORD_TOKEN: `${double.token.slice(0, -4)}xxxx` });
    try {
      const exit = await exitWithin(bot, 5000 + 3000); // + the child's own start-up
      expect(exit.code).not.toBe(0);
      console.log(`refused token: exited ${exit.at - startedAt} ms after start`);
      const fatal = bot.lines.find((line) => line.level === FATAL);
      expect(fatal?.msg).toBe("could not connect to Discord");
      expect(fatal?.err?.message).toMatch(/invalid token/i);
    } finally {
      bot.child.kill("SIGKILL");
      await double.close();
    }
  }, 60_000);
});

describe("gateway closes the bot recovers from", () => {
  it("close 4000: reconnects and keeps running; SIGTERM then stops it cleanly", async () => {
    const double = await startDiscordDouble();
    const bot = startBot(double);
    try {
      await bot.waitForLine((line) => line.msg === "bot ready");
      const connections = double.gateway.connections.length;
      double.disconnectGateway(4000);
      const deadline = Date.now() + 15_000;
      while (double.gateway.connections.length <= connections && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(double.gateway.connections.length).toBeGreaterThan(connections);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(bot.child.exitCode).toBeNull();
      expect(bot.lines.some((line) => line.level === FATAL)).toBe(false);
      bot.child.kill("SIGTERM");
      expect((await bot.exited).code).toBe(0);
    } finally {
      bot.child.kill("SIGKILL");
      await double.close();
    }
  }, 60_000);
});
