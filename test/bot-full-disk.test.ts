import { readdir } from "node:fs/promises";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import {
  ALICE,
  noisePng,
  privateReply,
  react,
  sendPreset,
  startTestBot,
  storeResult,
  type TestBot,
} from "./bot-helpers.js";
import { mountTinyFs, type TinyFs } from "./helpers/tiny-fs.js";

/**
 * The bot's data dir on a tiny file system that fills up: members get a clear private reply, the log a
 * warning, nothing is left half-written, votes wait instead of vanishing, and all is well once space is back.
 */

interface LogLine {
  level: number;
  msg: string;
  err?: { code?: string; message?: string };
}

const lines: LogLine[] = [];
const destination = new Writable({
  write(chunk, _encoding, done) {
    for (const text of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(text) as LogLine);
    done();
  },
});

const VOTERS = ["300000000000000201", "300000000000000202", "300000000000000203"];

let fs: TinyFs | undefined;
let t: TestBot | undefined;
beforeAll(async () => {
  fs = await mountTinyFs(2048);
  if (!fs) return;
  t = await startTestBot({
    env: { STYLIZE_DATA_DIR: fs.dir, STYLIZE_PRESET_COOLDOWN_S: "0" },
    log: createLogger({ level: "info", destination }),
  });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await fs?.unmount();
});

async function submitPreset(bot: TestBot, name: string, seed: number): Promise<string> {
  const image = bot.double.hostAttachment(await noisePng(400, seed), {
    filename: "p.png",
    contentType: "image/png",
  });
  return privateReply(bot.double, sendPreset(bot.double, "add", ALICE, { name, image }));
}

describe("a full disk under the data dir", () => {
  it("refuses clearly, warns, keeps votes waiting, leaves nothing half-written and recovers", async (context) => {
    if (!fs || !t) return context.skip();
    const bot = t;
    const store = bot.bot.context.store;
    const target = "400000000000000777";
    storeResult(bot, { messageId: target, preset: "starry-test", seed: 7 });
    store.updateGuildSettings(bot.double.guildId, { autoApprove: true });

    await fs.fill();
    const refused = await submitPreset(bot, "Full Disk", 1);
    expect(refused).toMatch(/can't save anything right now: my storage is full/);
    for (const voter of VOTERS) react(bot.double, "add", voter, target);
    await bot.eventually(() => lines.some((l) => l.msg.startsWith("database not writable")), 10_000);
    const warning = lines.find((l) => l.msg.startsWith("database not writable"))!;
    expect(warning.level).toBe(40);
    expect(warning.err?.code).toBe("SQLITE_FULL");
    // /help and reads keep working meanwhile.
    expect((await bot.double.sendCommand({ name: "help", user: ALICE }).response).type).toBe(4);
    expect(store.result(target)?.seed).toBe(7);
    expect(store.queuedWrites).toBeGreaterThan(0);

    await fs.free();
    await bot.eventually(() => store.votes(target) === VOTERS.length, 10_000);
    expect(lines.some((l) => l.msg.startsWith("database writable again"))).toBe(true);
    expect(await submitPreset(bot, "Full Disk", 1)).toMatch(/Added “Full Disk”/);
    expect(store.integrityCheck()).toBe("ok");
    // Only the database's own files: nothing temporary, empty or truncated beside them.
    const files = (await readdir(fs.dir)).filter((name) => name !== "jobs").sort();
    expect(files).toEqual(["stylize.db", "stylize.db-shm", "stylize.db-wal"]);
  }, 60_000);
});
