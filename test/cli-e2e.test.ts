import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyVggWeights, writeKerasH5 } from "./fixtures/tiny-vgg.js";
import { BUILT, NOBODY, runCli, runningAsRoot } from "./helpers/cli-process.js";

/**
 * The `stylize` command as a user runs it: the bin shim over the compiled CLI (`npm test` builds first).
 * Tiny weights and images keep each run to a few seconds.
 */

/** The lines a run printed on stderr. */
const lines = (stderr: string) => stderr.trimEnd().split("\n");

// Several processes start in each test, on a machine that may be shared: generous time limits.
describe("stylize CLI end to end", { timeout: 240_000 }, () => {
  let dir: string;
  let photo: string;
  let art: string;
  /** Tiny weights and layers they serve. */
  let common: string[];
  beforeAll(async () => {
    if (!BUILT) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
    dir = await mkdtemp(path.join(tmpdir(), "stylize-cli-"));
    // Readable by the unprivileged user the permission tests run as when the suite runs as root.
    await chmod(dir, 0o755);
    await writeKerasH5(tinyVggWeights({ layers: 4, seed: 5 }), path.join(dir, "vgg.h5"));
    const gradient = Buffer.alloc(60 * 40 * 3);
    for (let i = 0; i < gradient.length; i++) gradient[i] = (i * 7) % 256;
    photo = path.join(dir, "photo.jpg");
    art = path.join(dir, "art.png");
    await sharp(gradient, { raw: { width: 60, height: 40, channels: 3 } })
      .jpeg()
      .toFile(photo);
    await sharp({ create: { width: 32, height: 32, channels: 3, background: "#c83" } })
      .png()
      .toFile(art);
    await writeFile(path.join(dir, "notes.txt"), "not an image");
    // Where runs as the unprivileged user may write their output.
    await mkdir(path.join(dir, "shared"), { mode: 0o777 });
    await chmod(path.join(dir, "shared"), 0o777);
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

  /** `--content <content> --style art.png --out <out>`, plus a tiny, quick schedule. */
  const paint = (content: string, out: string) => [
    ...["--content", content, "--style", art, "--out", out],
    ...["--size", "48", "--scales", "1", "--steps", "5"],
  ];

  /** How long a run that paints took (the first test's), to compare refusals with. */
  let paintedMs: number | undefined;

  it("paints a photo, writes frames and reports the seed", async () => {
    const out = path.join(dir, "out.png");
    const result = await runCli([
      ...common,
      ...[
        "--content",
        photo,
        "--style",
        art,
        "--size",
        "48",
        "--scales",
        "2",
        "--steps",
        "10",
        "--seed",
        "9",
      ],
      ...["--frames", path.join(dir, "frames"), "--out", out],
    ]);
    expect(result.stderr).toMatch(/backend cpu, seed 9/);
    expect(result.code).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([48, 32, "png"]);
    expect((await readdir(path.join(dir, "frames"))).length).toBeGreaterThanOrEqual(2);
    paintedMs = result.ms;
  });

  it("--seed 42 and --seed 7777 paint different files; the same seed paints the same bytes", async () => {
    const run = async (seed: number, name: string) => {
      const out = path.join(dir, name);
      const result = await runCli([...common, ...paint(photo, out), "--seed", String(seed)]);
      expect(result.code).toBe(0);
      return readFile(out);
    };
    const [a, again, b] = [
      await run(42, "s42.png"),
      await run(42, "s42-again.png"),
      await run(7777, "s7777.png"),
    ];
    expect(a.equals(again)).toBe(true);
    expect(a.equals(b)).toBe(false);
    const pixels = async (png: Buffer) => sharp(png).raw().toBuffer();
    const [pa, pb] = [await pixels(a), await pixels(b)];
    let sum = 0;
    for (let i = 0; i < pa.length; i++) sum += Math.abs(pa[i]! - pb[i]!);
    // Not a rounding difference: the seeds' smooth noise moves the picture by tens of levels.
    expect(sum / pa.length).toBeGreaterThan(10);
  });

  describe("checks where the painting goes before any work", () => {
    // Each run also names a content image that does not exist: the --out error wins, so the images were
    // not even read, let alone the backend or the weights loaded; stderr holds that one line only.
    const missingPhoto = () => path.join(dir, "no-such-photo.jpg");

    it("refuses a folder that does not exist, faster than a run that paints", async () => {
      const folder = path.join(dir, "not-there");
      const refused = await runCli([...common, ...paint(missingPhoto(), path.join(folder, "out.png"))]);
      expect(refused.code).toBe(1);
      expect(lines(refused.stderr)).toEqual([
        `stylize: --out: the folder ${folder} does not exist; create it (mkdir -p ${folder}) or choose another --out path.`,
      ]);
      expect(paintedMs).toBeDefined();
      expect(refused.ms).toBeLessThan(paintedMs!);
      console.info(
        `refused in ${refused.ms.toFixed(0)} ms; the run that painted took ${paintedMs!.toFixed(0)} ms`,
      );
    });

    it("refuses an extension the encoder cannot write", async () => {
      const out = path.join(dir, "out.gif");
      const result = await runCli([...common, ...paint(missingPhoto(), out)]);
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual([
        `stylize: --out ${out}: I can't save images as ".gif" — use a file name ending in .png, .jpg, .jpeg or .webp.`,
      ]);
    });

    it("refuses a folder it may not write to, and the same for --frames", async () => {
      const locked = path.join(dir, "locked");
      await mkdir(locked);
      await chmod(locked, 0o555);
      const user = runningAsRoot ? { user: NOBODY } : {};
      const out = await runCli([...common, ...paint(missingPhoto(), path.join(locked, "out.png"))], user);
      expect(out.code).toBe(1);
      expect(lines(out.stderr)).toEqual([
        `stylize: --out: cannot write to the folder ${locked} (permission denied); fix its permissions or choose another --out path.`,
      ]);
      const frames = await runCli(
        [...common, ...paint(missingPhoto(), path.join(dir, "shared", "x.png")), "--frames", locked],
        user,
      );
      expect(lines(frames.stderr)).toEqual([
        `stylize: --frames: cannot write to the folder ${locked} (permission denied); fix its permissions or choose another --frames path.`,
      ]);
      expect(await readdir(locked)).toEqual([]);
    });
  });

  it("saves the painting elsewhere, and says where, when --out's folder vanishes during the run", async () => {
    const folder = path.join(dir, "vanishing");
    await mkdir(folder);
    const result = await runCli(
      [
        ...common,
        ...["--content", photo, "--style", art, "--size", "48", "--scales", "1", "--steps", "10"],
      ].concat(["--out", path.join(folder, "out.png")]),
      {
        // The painter has started (the checks passed): take the folder away before it finishes.
        onStderr: (text) => {
          if (text.includes("backend cpu")) void rm(folder, { recursive: true, force: true });
        },
      },
    );
    expect(result.code).toBe(1);
    const rescued = /the painting was saved to (\S+) instead/.exec(result.stderr)?.[1];
    expect(result.stderr).toContain(`could not write ${path.join(folder, "out.png")} (does not exist)`);
    expect(rescued).toBeDefined();
    const meta = await sharp(rescued!).metadata();
    await rm(rescued!);
    expect([meta.width, meta.format]).toEqual([48, "png"]);
  });

  describe("weights", () => {
    it("tells the user to run `npm run models` when the downloaded weights are missing", async () => {
      const result = await runCli(paint(photo, path.join(dir, "x.png")));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /VGG19 weights not found at \/nonexistent-models\/.*Run `npm run models`/,
      );
    });

    it("says what is wrong with a user's own weights file, and never to delete it", async () => {
      const mine = path.join(dir, "my-weights.h5");
      await writeFile(mine, "<html>not weights</html>");
      const bad = await runCli(["--weights", mine, ...paint(photo, path.join(dir, "x.png"))]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`The VGG19 weights file ${mine} cannot be used: not an HDF5 file`);
      expect(bad.stderr).not.toMatch(/delete|npm run models/i);
      const missing = await runCli([
        "--weights",
        path.join(dir, "typo.h5"),
        ...paint(photo, path.join(dir, "x.png")),
      ]);
      expect(lines(missing.stderr)).toEqual([
        `stylize: The VGG19 weights file ${path.join(dir, "typo.h5")} does not exist. Check the path.`,
      ]);
    });

    it("suggests layer flags that work with partial weights, and they do", async () => {
      const partial = path.join(dir, "vgg-blocks-1-3.h5");
      await writeKerasH5(tinyVggWeights({ layers: 8, seed: 6 }), partial);
      const out = path.join(dir, "partial.png");
      const refused = await runCli(["--weights", partial, ...paint(photo, out)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `the VGG19 weights at ${partial} stop at block3_conv4, but relu4_2 (content) and relu4_1, relu5_1 (style) need deeper layers.`,
      );
      const flags = /With these weights, add: (.*)/.exec(refused.stderr)?.[1];
      expect(flags).toBe("--content-layers relu3_2 --style-layers relu1_1,relu2_1,relu3_1");

      const painted = await runCli(["--weights", partial, ...flags!.split(" "), ...paint(photo, out)]);
      expect(painted.stderr).toMatch(/wrote .*partial\.png/);
      expect(painted.code).toBe(0);
    });
  });

  describe("the bot's environment variables", () => {
    it("are honoured, the flags winning over them", async () => {
      const weights = path.join(dir, "vgg.h5");
      const layers = common.slice(2); // the layer flags without --weights
      const args = [...layers, ...paint(photo, path.join(dir, "env.png")), "--size", "32"];
      const fromEnv = await runCli(args, { env: { STYLIZE_WEIGHTS: weights, STYLIZE_BACKEND: "wasm" } });
      expect(fromEnv.stderr).toMatch(/backend wasm, seed/);
      expect(fromEnv.code).toBe(0);
      expect((await sharp(path.join(dir, "env.png")).metadata()).width).toBe(32);

      const flagsWin = await runCli([...args, "--weights", weights, "--backend", "cpu"], {
        env: { STYLIZE_WEIGHTS: path.join(dir, "no-such-weights.h5"), STYLIZE_BACKEND: "wasm" },
      });
      expect(flagsWin.stderr).toMatch(/backend cpu, seed/);
      expect(flagsWin.code).toBe(0);
    });

    it("a bad one is refused at start, naming it", async () => {
      const result = await runCli([...common, ...paint(photo, path.join(dir, "bad.png"))], {
        env: { STYLIZE_THREADS: "0" },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/must be auto or a whole number 1–256; got "0"\n\s*→ at STYLIZE_THREADS/);
      expect(existsSync(path.join(dir, "bad.png"))).toBe(false);
    });

    it("STYLIZE_WEIGHTS names the user's own file: what is wrong with it, not a download", async () => {
      const mine = path.join(dir, "env-weights.h5");
      await writeFile(mine, "not weights");
      const result = await runCli(paint(photo, path.join(dir, "x.png")), { env: { STYLIZE_WEIGHTS: mine } });
      expect(lines(result.stderr)).toEqual([
        `stylize: The VGG19 weights file ${mine} cannot be used: not an HDF5 file (no HDF5 signature found). ` +
          "VGG19 weights must be a Keras .h5 file or a TensorFlow.js layers-model folder (or its model.json) " +
          "holding the conv layers from block1_conv1 on.",
      ]);
    });
  });

  describe("plain messages for input files", () => {
    it("says a missing image does not exist, without errno codes", async () => {
      const missing = path.join(dir, "nope.jpg");
      const result = await runCli([...common, ...paint(missing, path.join(dir, "z.png"))]);
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual([`stylize: the content image ${missing} does not exist`]);
    });

    it("says an unreadable image is not allowed to be read", async () => {
      const secret = path.join(dir, "secret.jpg");
      await copyFile(photo, secret);
      await chmod(secret, 0o000);
      const result = await runCli(
        [...common, ...paint(secret, path.join(dir, "shared", "z.png"))],
        runningAsRoot ? { user: NOBODY } : {},
      );
      expect(lines(result.stderr)).toEqual([
        `stylize: cannot read the content image ${secret}: permission denied`,
      ]);
    });

    it("refuses a file that is not an image, naming it", async () => {
      const notes = path.join(dir, "notes.txt");
      const result = await runCli([...common, ...paint(notes, path.join(dir, "y.png"))]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the content image "${notes}": That file isn't an image`);
    });

    it("refuses a bad option with a clear message", async () => {
      const bad = await runCli(["--content", "a.jpg", "--style", "b.jpg", "--out", "c.png", "--size", "5"]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/--size must be a whole number from 32 to 4096/);
    });
  });
});
