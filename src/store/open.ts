import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

/**
 * Opens the SQLite file for the store, or fails with an error that names the file and says what is wrong
 * with it: SQLite's own "unable to open database file" names neither.
 */

export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}

/** Migrations at start-up may wait for another process's write a while: nobody is waiting on the bot yet. */
const STARTUP_BUSY_TIMEOUT_MS = 5000;

export function openDatabase(file: string, migrate: (db: Database.Database) => void): Database.Database {
  const memory = file === ":memory:";
  const dir = path.dirname(file);
  if (!memory) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new StoreOpenError(`cannot create the data directory ${dir}: ${fsReason(error)}`, {
        cause: error,
      });
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: STARTUP_BUSY_TIMEOUT_MS });
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    // WAL with NORMAL sync stays consistent on a crash; only the last commits may be lost on power loss.
    db.pragma("synchronous = NORMAL");
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    if (memory) throw error;
    throw new StoreOpenError(`cannot open the database ${file}: ${whyUnusable(file, error)}`, {
      cause: error,
    });
  }
}

/** What keeps SQLite from using `file`, in words a person running the bot can act on. */
function whyUnusable(file: string, error: unknown): string {
  const code = String((error as { code?: unknown }).code ?? "");
  const message = error instanceof Error ? error.message : String(error);
  const dir = path.dirname(file);
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) return "it is a directory, not a file";
  if (code === "SQLITE_NOTADB") return "it is not a SQLite database (or it is damaged)";
  if (code.startsWith("SQLITE_CORRUPT")) return "the file is damaged (SQLite reports it corrupt)";
  if (code === "SQLITE_FULL") return "the disk is full";
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY")) {
    // SQLite needs to write the file and create `-wal` and `-shm` files beside it.
    for (const target of [file, dir]) {
      const denied = writeDenied(target);
      if (denied) return `${target === dir ? `its directory ${dir}` : "the file"} ${denied}`;
    }
  }
  if (code.startsWith("SQLITE_BUSY")) {
    return "another process keeps it locked (is a second copy of the bot running?)";
  }
  return message;
}

/** Why this process may not write `target`, or undefined when it may (or `target` does not exist). */
function writeDenied(target: string): string | undefined {
  try {
    accessSync(target, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    return `is not writable: ${fsReason(error)}`;
  }
}

function fsReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  switch (code) {
    case "EROFS":
      return "read-only file system (EROFS)";
    case "EACCES":
    case "EPERM":
      return `permission denied for this user (${code})`;
    case "ENOTDIR":
      return "a part of the path is a file, not a directory (ENOTDIR)";
    case "EEXIST":
      return "a file of that name is in the way (EEXIST)";
    case "ENOSPC":
      return "the disk is full (ENOSPC)";
    default:
      return message;
  }
}
