import { closeSync, fsyncSync, openSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import writeFileAtomicLib from "write-file-atomic";

/**
 * The one way the bot and the CLI write a file: to a temporary name beside it, fsync'd, then renamed over
 * the target (write-file-atomic), and the directory fsync'd so the rename survives a power cut. A reader
 * sees the old file or the new one, never a half-written one; a failed write (a full disk) removes its
 * temporary file and leaves the old file as it was. (SQLite does its own; streamed downloads do the same
 * by hand in engine/weights/download.ts.)
 */

export class FileWriteError extends Error {
  override readonly name = "FileWriteError";
  /** The Node error code (ENOSPC, EDQUOT, EROFS, EACCES, ...). */
  readonly code: string | undefined;

  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`could not write ${file}: ${describeWriteFailure(cause)}`, { cause });
    this.code = code;
  }

  /** The disk (or the user's quota on it) is full: worth retrying once space is freed. */
  get diskFull(): boolean {
    return this.code === "ENOSPC" || this.code === "EDQUOT";
  }
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  try {
    const bytes =
      typeof data === "string" || Buffer.isBuffer(data)
        ? data
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await writeFileAtomicLib(file, bytes);
    await fsyncDirectory(path.dirname(file));
  } catch (error) {
    throw new FileWriteError(file, error);
  }
}

/** writeFileAtomic for synchronous callers (a schema migration). */
export function writeFileAtomicSync(file: string, data: Uint8Array): void {
  try {
    writeFileAtomicLib.sync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    const fd = openSync(path.dirname(file), "r");
    try {
      fsyncSync(fd);
    } catch (error) {
      if (!DIRECTORY_FSYNC_UNSUPPORTED.includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new FileWriteError(file, error);
  }
}

/** Some file systems cannot fsync a directory; the data itself is already on disk then. */
const DIRECTORY_FSYNC_UNSUPPORTED = ["EINVAL", "EISDIR", "ENOTSUP"];

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_FSYNC_UNSUPPORTED.includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
  } finally {
    await handle.close();
  }
}

function describeWriteFailure(error: unknown): string {
  const { code, message } = (error ?? {}) as NodeJS.ErrnoException;
  switch (code) {
    case "ENOSPC":
      return "the disk is full (ENOSPC); nothing was written";
    case "EDQUOT":
      return "the disk quota is used up (EDQUOT); nothing was written";
    case "EROFS":
      return "the file system is read-only (EROFS)";
    case "EACCES":
    case "EPERM":
      return `permission denied (${code})`;
    case "ENOENT":
      return "its folder does not exist (ENOENT)";
    default:
      return message ?? String(error);
  }
}
