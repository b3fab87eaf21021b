import { execFile } from "node:child_process";
import { mkdtemp, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/**
 * A tiny tmpfs mounted for a test, so "the disk is full" is real rather than simulated. Mounting needs
 * root (the test machines run as root); elsewhere mountTinyFs returns undefined and the caller skips loudly.
 */

const run = promisify(execFile);

export interface TinyFs {
  readonly dir: string;
  /** Writes a filler file until the file system refuses another byte. */
  fill(): Promise<void>;
  /** Removes the filler: space is back. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

export async function mountTinyFs(sizeKiB: number): Promise<TinyFs | undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), "stylize-tinyfs-"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    console.warn(
      `SKIPPED: cannot mount a tmpfs here (${(error as Error).message.trim()}); run as root to test a full disk`,
    );
    return undefined;
  }
  const filler = path.join(dir, "filler.bin");
  return {
    dir,
    async fill() {
      const { bavail, bsize } = await statfs(dir);
      await writeFile(filler, Buffer.alloc(Number(bavail) * Number(bsize) - 4096)).catch(() => undefined);
      // tmpfs counts in pages: top up in small steps until it says no.
      for (let i = 0; i < 1024; i++) {
        try {
          await writeFile(filler, Buffer.alloc(512), { flag: "a" });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOSPC") return;
          throw error;
        }
      }
      throw new Error("the tiny file system never filled up");
    },
    async free() {
      await rm(filler, { force: true });
    },
    async unmount() {
      await run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
