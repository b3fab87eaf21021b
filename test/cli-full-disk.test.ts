import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyVggWeights, writeKerasH5 } from "./fixtures/tiny-vgg.js";
import { mountTinyFs, type TinyFs } from "./helpers/tiny-fs.js";

/** `stylize --out` onto a full disk: a clear message, exit 1, and no empty or truncated picture. */

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../bin/stylize.js");
const built = existsSync(path.resolve(import.meta.dirname, "../dist/src/cli/main.js"));

let dir: string;
let fs: TinyFs | undefined;
beforeAll(async () => {
  if (!built) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  dir = await mkdtemp(path.join(tmpdir(), "stylize-cli-full-"));
  await writeKerasH5(tinyVggWeights({ layers: 4, seed: 5 }), path.join(dir, "vgg.h5"));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: "#48c" } })
    .png()
    .toFile(path.join(dir, "photo.png"));
  await sharp({ create: { width: 32, height: 32, channels: 3, background: "#c83" } })
    .png()
    .toFile(path.join(dir, "art.png"));
  fs = await mountTinyFs(256);
});
afterAll(async () => {
  await fs?.unmount();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function paintTo(out: string) {
  const args = [
    ...[
      "--weights",
      path.join(dir, "vgg.h5"),
      "--content-layers",
      "relu2_2",
      "--style-layers",
      "relu1_1,relu2_1",
    ],
    ...["--content", path.join(dir, "photo.png"), "--style", path.join(dir, "art.png")],
    ...["--size", "32", "--scales", "1", "--steps", "3", "--out", out],
  ];
  try {
    await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, STYLIZE_BACKEND: "cpu" },
      timeout: 120_000,
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe("stylize CLI on a full disk", () => {
  it("says the disk is full, keeps the painting elsewhere, leaves no file; writes it once space is back", async (context) => {
    if (!fs) return context.skip();
    const out = path.join(fs.dir, "out.png");
    await fs.fill();
    const full = await paintTo(out);
    expect(full.code).toBe(1);
    const saved = new RegExp(
      `could not write ${out} \\(the disk is full\\); the painting was saved to (\\S+\\.png) instead`,
    ).exec(full.stderr)?.[1];
    expect(saved, full.stderr).toBeDefined();
    expect((await sharp(saved!).metadata()).format).toBe("png"); // the painting is not lost
    await rm(saved!);
    expect(await readdir(fs.dir)).toEqual(["filler.bin"]); // nothing half-written at the target

    await fs.free();
    expect((await paintTo(out)).code).toBe(0);
    expect((await sharp(out).metadata()).format).toBe("png");
  }, 120_000);
});
