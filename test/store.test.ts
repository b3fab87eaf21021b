import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MIGRATIONS,
  PresetNameTakenError,
  SCHEMA_VERSION,
  Store,
  StoreUnavailableError,
} from "../src/store/index.js";
import { bundleForNode } from "./bot-helpers.js";

/** The store on real SQLite files: migrations, two writers at once, and a writer killed mid-transaction. */

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
let writerScript: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-store-"));
  writerScript = await bundleForNode(path.join(here, "fixtures", "store-writer.ts"), "store-writer");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(writerScript, { force: true });
});

const file = (name: string) => path.join(dir, `${name}.db`);

function sharedResult(store: Store): void {
  store.recordResult({
    messageId: "shared",
    channelId: "c",
    guildId: "g",
    requesterId: "r",
    preset: "starry",
    settings: {},
    seed: 1,
    createdAt: 0,
  });
}

function startWriter(
  db: string,
  name: string,
  count: number,
  holdAtRound?: number,
): { child: ChildProcess; rounds: () => number; holding: () => boolean } {
  const args = [
    writerScript,
    db,
    name,
    String(count),
    ...(holdAtRound === undefined ? [] : [String(holdAtRound)]),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let rounds = 0;
  let holding = false;
  child.stdout?.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      if (line === "holding") holding = true;
      else rounds++;
    }
  });
  return { child, rounds: () => rounds, holding: () => holding };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

describe("migrations", () => {
  it("create the whole schema in an empty file, in WAL mode", () => {
    const store = Store.open(file("empty"));
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
    const db = new Database(file("empty"), { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual([
      "guild_presets",
      "guild_settings",
      "jobs",
      "results",
      "votes",
    ]);
    db.close();
  });

  it("bring a version-1 file up to date and keep its rows", () => {
    const db = new Database(file("v1"));
    db.exec(MIGRATIONS[0] as string);
    db.pragma("user_version = 1");
    db.prepare(
      "INSERT INTO results (message_id, channel_id, guild_id, requester_id, preset, settings, seed, created_at) VALUES ('m1', 'c', 'g', 'r', 'starry', '{}', 7, 1)",
    ).run();
    db.prepare("INSERT INTO votes (message_id, voter_id, created_at) VALUES ('m1', 'v', 2)").run();
    db.close();

    const store = Store.open(file("v1"));
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.result("m1")).toMatchObject({ seed: 7, preset: "starry" });
    expect(store.votes("m1")).toBe(1);
    // Version 2's additions work on the old rows.
    expect(store.claimHallOfFame("m1")).toBe(true);
    expect(store.updateGuildSettings("g", { autoApprove: true }).autoApprove).toBe(true);
    store.close();
    // Opening again is a no-op.
    const again = Store.open(file("v1"));
    expect(again.guildSettings("g").autoApprove).toBe(true);
    again.close();
  });

  it("refuse a file from a newer bot", () => {
    const db = new Database(file("future"));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => Store.open(file("future"))).toThrow(/newer than this bot knows/);
  });
});

describe("store rules", () => {
  it("keeps preset names unique per guild regardless of case, one vote per member", () => {
    const store = Store.open(file("rules"));
    const preset = {
      guildId: "g",
      name: "Blue Night",
      submitterId: "u",
      status: "pending" as const,
      image: Buffer.from([1]),
      thumbnail: Buffer.from([2]),
      phash: "ffffffffffffffff",
    };
    const added = store.addPreset(preset);
    expect(() => store.addPreset({ ...preset, name: "blue night" })).toThrow(PresetNameTakenError);
    expect(store.addPreset({ ...preset, guildId: "other" }).name).toBe("Blue Night");
    expect(store.presetByName("g", "BLUE NIGHT")?.id).toBe(added.id);
    sharedResult(store);
    expect(store.addVote("shared", "a")).toBe(true);
    expect(store.addVote("shared", "a")).toBe(false);
    expect(store.votes("shared")).toBe(1);
    expect(store.removeVote("shared", "a")).toBe(true);
    expect(store.removeVote("shared", "a")).toBe(false);
    expect(store.votes("shared")).toBe(0);
    expect(store.claimHallOfFame("shared")).toBe(true);
    expect(store.claimHallOfFame("shared")).toBe(false);
    store.close();
  });
});

describe("two processes writing at once (bot and job runner)", () => {
  it("lose no write and see each other's", async () => {
    const db = file("concurrent");
    const store = Store.open(db);
    sharedResult(store);
    const rounds = 120;
    const writers = [startWriter(db, "bot", rounds), startWriter(db, "runner", rounds)];
    // This connection writes too while the children run, as the bot does: queued, never blocking for long.
    const votes: Promise<boolean>[] = [];
    for (let i = 0; i < 40; i++) {
      votes.push(store.enqueue(() => store.addVote("shared", `parent-${i}`)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await Promise.all(votes)).toEqual(Array(40).fill(true));
    const exits = await Promise.all(writers.map((w) => exited(w.child)));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    expect(store.votes("shared")).toBe(2 * rounds + 40);
    expect(store.presets("g")).toHaveLength(2 * rounds);
    expect(store.favourites("v1", "g", 0, 1).total).toBe(2 * rounds);
    expect(store.integrityCheck()).toBe("ok");
    store.close();
  }, 60_000);
});

describe("another process holding the write lock", () => {
  it("a result record and the votes on it wait, land in order, and no call blocks for long", async () => {
    const db = file("locked");
    const store = Store.open(db);
    const locker = await bundleForNode(path.join(here, "fixtures", "store-locker.ts"), "store-locker-unit");
    const child = spawn(process.execPath, [locker, db, "1500"], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((resolve) => child.stdout?.once("data", resolve)); // "locked"

    let longestCallMs = 0;
    const timed = <T>(call: () => T): T => {
      const started = performance.now();
      try {
        return call();
      } finally {
        longestCallMs = Math.max(longestCallMs, performance.now() - started);
      }
    };
    const record = timed(() =>
      store.enqueue(() =>
        store.recordResult({
          messageId: "late",
          channelId: "c",
          guildId: "g",
          requesterId: "r",
          preset: "starry",
          settings: {},
          seed: 3,
          createdAt: 0,
        }),
      ),
    );
    // The votes reference the result (a foreign key): only the queue's order makes them valid.
    const votes = ["a", "b", "c"].map((voter) =>
      timed(() => store.enqueue(() => store.addVote("late", voter))),
    );
    expect(() => timed(() => store.setPresetStatus(1, "approved"))).toThrow(StoreUnavailableError);
    expect(store.result("late")).toBeUndefined(); // reads go on; the write is not there yet
    expect(store.queuedWrites).toBe(4);

    await record;
    expect(await Promise.all(votes)).toEqual([true, true, true]);
    expect(store.votes("late")).toBe(3);
    expect((await exited(child)).code).toBe(0);
    expect(longestCallMs).toBeLessThan(100); // the first try waits 10 ms, the next ones not at all
    store.close();
    await rm(locker, { force: true });
  }, 30_000);
});

describe("a writer killed mid-transaction", () => {
  /** Kills the writer once `ready` says so, then checks that every round is whole; returns the rounds kept. */
  async function killAndCheck(db: string, writer: ReturnType<typeof startWriter>, ready: () => boolean) {
    const deadline = Date.now() + 30_000;
    while (!ready() && writer.child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(ready()).toBe(true);
    writer.child.kill("SIGKILL");
    expect((await exited(writer.child)).signal).toBe("SIGKILL");

    const store = Store.open(db);
    expect(store.integrityCheck()).toBe("ok");
    const presets = store.presets("g");
    for (const preset of presets) {
      const round = Number(preset.name.split("-")[1]);
      // Each round's preset, result and votes committed together or not at all.
      expect(store.result(preset.name)?.seed).toBe(round);
      expect(store.votes(preset.name)).toBe(3);
      const image = store.presetImage(preset.id)!.image;
      expect(image.length).toBe(64 * 1024);
      expect(image.every((byte) => byte === round % 251)).toBe(true);
    }
    expect(store.favourites("v1", "g", 0, 1).total).toBe(presets.length);
    expect(store.votes("shared")).toBe(presets.length);
    store.close();
    return presets.length;
  }

  function freshDb(name: string): string {
    const db = file(name);
    const setup = Store.open(db);
    sharedResult(setup);
    setup.close();
    return db;
  }

  it("inside an open transaction: the half-written round vanishes, the rest is whole", async () => {
    const db = freshDb("crash-held");
    const writer = startWriter(db, "doomed", 0, 20);
    // Held after writing round 20's preset and before its result: exactly rounds 0..19 survive.
    expect(await killAndCheck(db, writer, writer.holding)).toBe(20);
  }, 60_000);

  it("at a random moment of a busy write loop", async () => {
    const db = freshDb("crash-busy");
    const writer = startWriter(db, "doomed", 0);
    expect(await killAndCheck(db, writer, () => writer.rounds() >= 30)).toBeGreaterThanOrEqual(30);
  }, 60_000);
});
