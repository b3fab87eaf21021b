import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store, StoreOpenError } from "../src/store/index.js";
import { mountTinyFs, type TinyFs } from "./helpers/tiny-fs.js";

/** Opening the store on an unusable data dir or file: the error names the path and what is wrong. */

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-open-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function openError(file: string): StoreOpenError {
  try {
    Store.open(file).close();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreOpenError);
    return error as StoreOpenError;
  }
  throw new Error(`the store opened ${file}`);
}

describe("Store.open on an unusable path", () => {
  it("a data dir that is a file", async () => {
    const notADir = path.join(dir, "data-file");
    await writeFile(notADir, "I am a file");
    expect(openError(path.join(notADir, "stylize.db")).message).toMatch(
      new RegExp(`^cannot create the data directory ${notADir}: .*(ENOTDIR|EEXIST)`),
    );
  });

  it("a database path that is a directory", async () => {
    const folder = path.join(dir, "db-folder");
    await mkdir(folder);
    expect(openError(folder).message).toBe(
      `cannot open the database ${folder}: it is a directory, not a file`,
    );
  });

  it("a file that is not a SQLite database", async () => {
    const junk = path.join(dir, "junk.db");
    await writeFile(junk, "this is not a database, just text long enough to fill a header ".repeat(20));
    expect(openError(junk).message).toBe(
      `cannot open the database ${junk}: it is not a SQLite database (or it is damaged)`,
    );
  });

  it("a database from a newer bot", () => {
    const newer = path.join(dir, "newer.db");
    Store.open(newer).close();
    const db = new Database(newer);
    db.pragma("user_version = 999");
    db.close();
    expect(openError(newer).message).toMatch(
      new RegExp(`^cannot open the database ${newer}: the database is at schema version 999`),
    );
  });
});

describe("Store.open on a read-only file system", () => {
  let fs: TinyFs | undefined;
  beforeAll(async () => {
    fs = await mountTinyFs(1024);
  });
  afterAll(() => fs?.unmount());

  it("an empty read-only data dir, and an existing database on one", async (context) => {
    if (!fs) return context.skip();
    const file = path.join(fs.dir, "stylize.db");
    Store.open(file).close();
    await run("mount", ["-o", "remount,ro", fs.dir]);
    try {
      const fresh = path.join(fs.dir, "fresh.db");
      expect(openError(fresh).message).toBe(
        `cannot open the database ${fresh}: its directory ${fs.dir} is not writable: read-only file system (EROFS)`,
      );
      expect(openError(file).message).toMatch(
        new RegExp(
          `^cannot open the database ${file}: the file is not writable: read-only file system \\(EROFS\\)`,
        ),
      );
    } finally {
      await run("mount", ["-o", "remount,rw", fs.dir]);
    }
  });
});
