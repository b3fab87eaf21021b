import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyVggWeights, writeKerasH5 } from "./fixtures/tiny-vgg.js";

/**
 * The `stylize` command as a user runs it: the bin shim over the compiled CLI (`npm test` builds first).
 * Tiny weights and images keep each run to a few seconds.
 */
const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../bin/stylize.js");
const built = existsSync(path.resolve(import.meta.dirname, "../dist/src/cli/main.js"));

async function stylizeCli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        STYLIZE_BACKEND: "cpu",
        STYLIZE_MODELS_DIR: "/nonexistent-models",
        STYLIZE_WEIGHTS: "",
        ...env,
      },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `--content <file> --style art.png --out <file>` inside the test folder. */
function paint(dir: string, content: string, out: string): string[] {
  return [
    "--content",
    path.join(dir, content),
    "--style",
    path.join(dir, "art.png"),
    "--out",
    path.join(dir, out),
  ];
}

describe("stylize CLI end to end", () => {
  let dir: string;
  let common: string[];
  beforeAll(async () => {
    if (!built) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
    dir = await mkdtemp(path.join(tmpdir(), "stylize-cli-"));
    await writeKerasH5(tinyVggWeights({ layers: 4, seed: 5 }), path.join(dir, "vgg.h5"));
    const gradient = Buffer.alloc(60 * 40 * 3);
    for (let i = 0; i < gradient.length; i++) gradient[i] = (i * 7) % 256;
    await sharp(gradient, { raw: { width: 60, height: 40, channels: 3 } })
      .jpeg()
      .toFile(path.join(dir, "photo.jpg"));
    await sharp({ create: { width: 32, height: 32, channels: 3, background: "#c83" } })
      .png()
      .toFile(path.join(dir, "art.png"));
    await writeFile(path.join(dir, "notes.txt"), "not an image");
    common = [
      "--weights",
      path.join(dir, "vgg.h5"),
      "--content-layers",
      "relu2_2",
      "--style-layers",
      "relu1_1,relu2_1",
    ];
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("paints a photo, writes frames and reports the seed", async () => {
    const out = path.join(dir, "out.png");
    const result = await stylizeCli([
      ...common,
      "--content",
      path.join(dir, "photo.jpg"),
      "--style",
      path.join(dir, "art.png"),
      "--size",
      "48",
      "--scales",
      "2",
      "--steps",
      "10",
      "--seed",
      "9",
      "--frames",
      path.join(dir, "frames"),
      "--out",
      out,
    ]);
    expect(result.stderr).toMatch(/backend cpu, seed 9/);
    expect(result.code).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([48, 32, "png"]);
    expect((await readdir(path.join(dir, "frames"))).length).toBeGreaterThanOrEqual(2);
  });

  it("tells the user to run `npm run models` when no weights are installed", async () => {
    const result = await stylizeCli(paint(dir, "photo.jpg", "x.png"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/npm run models/);
  });

  it("honours the bot's environment variables, its flags winning over them", async () => {
    const weights = path.join(dir, "vgg.h5");
    const layers = common.slice(2); // the layer flags without --weights
    const args = [
      ...layers,
      ...paint(dir, "photo.jpg", "env.png"),
      "--size",
      "32",
      "--scales",
      "1",
      "--steps",
      "2",
    ];
    const fromEnv = await stylizeCli(args, { STYLIZE_WEIGHTS: weights, STYLIZE_BACKEND: "wasm" });
    expect(fromEnv.stderr).toMatch(/backend wasm, seed/);
    expect(fromEnv.code).toBe(0);
    expect((await sharp(path.join(dir, "env.png")).metadata()).width).toBe(32);

    const flagsWin = await stylizeCli([...args, "--weights", weights, "--backend", "cpu"], {
      STYLIZE_WEIGHTS: path.join(dir, "no-such-weights.h5"),
      STYLIZE_BACKEND: "wasm",
    });
    expect(flagsWin.stderr).toMatch(/backend cpu, seed/);
    expect(flagsWin.code).toBe(0);
  });

  it("refuses a bad environment variable at start, naming it", async () => {
    const result = await stylizeCli([...common, ...paint(dir, "photo.jpg", "bad.png")], {
      STYLIZE_THREADS: "0",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/must be auto or a whole number 1–256; got "0"\n\s*→ at STYLIZE_THREADS/);
    expect(existsSync(path.join(dir, "bad.png"))).toBe(false);
  });

  it("refuses a file that is not an image, naming it", async () => {
    const notes = path.join(dir, "notes.txt");
    const result = await stylizeCli([...common, ...paint(dir, "notes.txt", "y.png")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the content image "${notes}": That file isn't an image`);
  });

  it("refuses a missing file and a bad option with clear messages", async () => {
    const missing = await stylizeCli([...common, ...paint(dir, "nope.jpg", "z.png")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the content image .*nope\.jpg.*ENOENT/);
    const bad = await stylizeCli(["--content", "a.jpg", "--style", "b.jpg", "--out", "c.png", "--size", "5"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--size must be a whole number from 32 to 4096/);
  });
});
