import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic, writeFileAtomicSync } from "../atomic-file.js";

/**
 * Files addressed by the SHA-256 of their bytes (members' photos, results, timelapses): the same bytes are
 * stored once, a name never points at other content, and a reader can check what it got. Every write is
 * atomic (src/atomic-file.ts), so a crash or a full disk never leaves a truncated file under a real name.
 */

export const BLOB_ID_PATTERN = /^[0-9a-f]{64}$/;

export class BlobStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Stores `data` and returns its id (idempotent). */
  async put(data: Uint8Array): Promise<string> {
    const id = blobId(data);
    const file = this.#path(id);
    if (await exists(file)) return id;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, data);
    return id;
  }

  /** put() for synchronous callers (a schema migration). */
  putSync(data: Uint8Array): string {
    const id = blobId(data);
    const file = this.#path(id);
    if (existsSync(file)) return id;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomicSync(file, data);
    return id;
  }

  /** The bytes of a stored blob; rejects (ENOENT) when it is gone. */
  get(id: string): Promise<Buffer> {
    return readFile(this.#path(id));
  }

  /**
   * Deletes blobs not in `keep` that are older than `minAgeMs` (younger ones may belong to a job being
   * written right now), and leftover temporary files; returns how many went.
   */
  async prune(keep: ReadonlySet<string>, minAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.#dir).catch(() => [] as string[])) {
      const shardDir = path.join(this.#dir, shard);
      for (const name of await readdir(shardDir).catch(() => [] as string[])) {
        if (keep.has(name)) continue;
        const file = path.join(shardDir, name);
        const info = await stat(file).catch(() => undefined);
        if (!info || now - info.mtimeMs < minAgeMs) continue;
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  #path(id: string): string {
    if (!BLOB_ID_PATTERN.test(id)) throw new RangeError(`not a blob id: ${id}`);
    return path.join(this.#dir, id.slice(0, 2), id);
  }
}

function blobId(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
