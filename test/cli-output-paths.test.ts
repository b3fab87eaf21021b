import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOutputFile, prepareFramesFolder } from "../src/cli/output-paths.js";
import { UserError } from "../src/cli/user-error.js";
import { plainFsReason } from "../src/fs-errors.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "stylize-out-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(check: Promise<void>): Promise<string> {
  const error = await check.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return (error as Error).message;
}

describe("checkOutputFile", () => {
  it("accepts a new or existing file in a writable folder and leaves nothing behind", async () => {
    await checkOutputFile(path.join(dir, "new.png"));
    await writeFile(path.join(dir, "old.jpg"), "x");
    await checkOutputFile(path.join(dir, "old.jpg"));
    expect(await readdir(dir)).toEqual(["old.jpg"]);
  });

  it("refuses, saying what to do: unsupported format, missing folder, a folder as --out, a file as folder", async () => {
    expect(await refusal(checkOutputFile(path.join(dir, "out.gif")))).toBe(
      `--out ${path.join(dir, "out.gif")}: I can't save images as ".gif" — use a file name ending in .png, .jpg, .jpeg or .webp.`,
    );
    const missing = path.join(dir, "no", "such");
    expect(await refusal(checkOutputFile(path.join(missing, "out.png")))).toBe(
      `--out: the folder ${missing} does not exist; create it (mkdir -p ${missing}) or choose another --out path.`,
    );
    expect(await refusal(checkOutputFile(dir))).toBe(
      `--out ${dir} is a folder: give a file name, e.g. ${path.join(dir, "painting.png")}`,
    );
    await writeFile(path.join(dir, "plain-file"), "x");
    expect(await refusal(checkOutputFile(path.join(dir, "plain-file", "out.png")))).toMatch(
      /^--out: .*plain-file is not a folder; choose another --out path\.$/,
    );
  });
});

describe("prepareFramesFolder", () => {
  it("creates the folder, and refuses a path that is a file", async () => {
    const frames = path.join(dir, "frames", "run1");
    await prepareFramesFolder(frames);
    expect(await readdir(frames)).toEqual([]);
    await mkdir(path.join(dir, "f"));
    await writeFile(path.join(dir, "f", "taken"), "x");
    expect(await refusal(prepareFramesFolder(path.join(dir, "f", "taken")))).toBe(
      `--frames: cannot create the folder ${path.join(dir, "f", "taken")} (it is a file); choose another --frames folder.`,
    );
  });
});

describe("plainFsReason", () => {
  it("puts errno codes into words and strips them from messages it does not know", () => {
    const error = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(plainFsReason(error("EACCES", "EACCES: permission denied, open '/x'"))).toBe("permission denied");
    expect(plainFsReason(error("ENOENT", "ENOENT: no such file or directory, open '/x'"))).toBe(
      "does not exist",
    );
    expect(plainFsReason(error("EWEIRD", "EWEIRD: something odd happened, rename '/a' -> '/b'"))).toBe(
      "something odd happened",
    );
    expect(plainFsReason(error("EWEIRD", "EWEIRD: something odd happened, open '/a'"))).toBe(
      "something odd happened",
    );
  });
});
