import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileWriteError, writeFileAtomic } from "../src/atomic-file.js";
import { encodeFile } from "../src/images/index.js";
import { mountTinyFs, type TinyFs } from "./helpers/tiny-fs.js";

/** Atomic writes on a real, tiny file system that fills up: nothing half-written, clear errors, recovery. */

let fs: TinyFs | undefined;
beforeAll(async () => {
  fs = await mountTinyFs(512);
});
afterAll(() => fs?.unmount());

const noise = (bytes: number) => Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 131 + 7) % 256));

describe("writeFileAtomic on a full disk", () => {
  it("leaves the old file whole, no new or temporary file, and says the disk is full; works again once space is back", async (context) => {
    if (!fs) return context.skip();
    const kept = path.join(fs.dir, "kept.json");
    await writeFileAtomic(kept, JSON.stringify({ version: 1 }));
    await fs.fill();

    const bigger = JSON.stringify({ version: 2, padding: "x".repeat(64 * 1024) });
    const replace = await writeFileAtomic(kept, bigger).catch((error: unknown) => error);
    expect(replace).toBeInstanceOf(FileWriteError);
    expect((replace as FileWriteError).diskFull).toBe(true);
    expect((replace as Error).message).toBe(
      `could not write ${kept}: the disk is full (ENOSPC); nothing was written`,
    );
    expect(JSON.parse(await readFile(kept, "utf8"))).toEqual({ version: 1 });

    const fresh = path.join(fs.dir, "photo.png");
    const picture = { width: 64, height: 64, data: new Uint8Array(noise(64 * 64 * 3)) };
    await expect(encodeFile(picture, fresh)).rejects.toThrow(/photo\.png: the disk is full/);
    await expect(writeFileAtomic(path.join(fs.dir, "new.bin"), noise(100_000))).rejects.toThrow(
      FileWriteError,
    );
    // Only what was there before: no empty, truncated or temporary file.
    expect((await readdir(fs.dir)).sort()).toEqual(["filler.bin", "kept.json"]);

    await fs.free();
    await writeFileAtomic(kept, bigger);
    expect(await readFile(kept, "utf8")).toBe(bigger);
    await encodeFile(picture, fresh);
    expect((await readFile(fresh)).subarray(1, 4).toString()).toBe("PNG");
  });
});
