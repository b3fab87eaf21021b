import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleForNode } from "./bot-helpers.js";

/** `npm start` without a token (or with a broken config) must stop at once with a clear message. */

const run = promisify(execFile);
let main: string;
let emptyDir: string;

beforeAll(async () => {
  main = await bundleForNode(path.resolve("src/main.ts"), "bot-main");
  emptyDir = await mkdtemp(path.join(tmpdir(), "stylize-main-")); // no .env here
});
afterAll(async () => {
  await rm(main, { force: true });
  await rm(emptyDir, { recursive: true, force: true });
});

async function start(env: Record<string, string>) {
  try {
    await run(process.execPath, [main], {
      cwd: emptyDir,
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 20_000,
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe("bot main", () => {
  it("exits non-zero and explains how to get a token when DISCORD_TOKEN is missing", async () => {
    const { code, stderr } = await start({});
    expect(code).toBe(1);
    expect(stderr).toMatch(/DISCORD_TOKEN is not set/);
    expect(stderr).toMatch(/\.env\.example/);
  });

  it("exits non-zero naming each bad variable when the config is invalid", async () => {
    const { code, stderr } = await start({
      DISCORD_TOKEN: "x",
      STYLIZE_CONCURRENCY: "lots",
      STYLIZE_THREADS: "many",
      LOG_LEVEL: "loud",
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/→ at STYLIZE_CONCURRENCY/);
    expect(stderr).toMatch(/must be auto or a whole number 1–256; got "many"\n\s*→ at STYLIZE_THREADS/);
    expect(stderr).toMatch(/→ at LOG_LEVEL/);
  });

  it("exits non-zero naming the path and the problem when the data dir cannot be used", async () => {
    const notADir = path.join(emptyDir, "data-is-a-file");
    await writeFile(notADir, "");
    const { code, stderr } = await start({ DISCORD_TOKEN: "x", STYLIZE_DATA_DIR: notADir });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(
        `The bot could not be set up: cannot create the data directory ${notADir}: .*(ENOTDIR|EEXIST)`,
      ),
    );
  });
});
