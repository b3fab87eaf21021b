import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeImage,
  encodeAnimation,
  encodeFile,
  encodeImage,
  encodeToFit,
  ImageInputError,
  outputFormatForPath,
} from "../src/images/index.js";
import {
  BLUE,
  expectPixelNear,
  GREEN,
  noiseImage,
  RED,
  solidImage,
  twoToneImage,
} from "./images-fixtures.js";

describe("encodeImage", () => {
  const image = twoToneImage(64, 48, RED, BLUE);

  for (const [format, tolerance] of [
    ["png", 0],
    ["jpeg", 12],
    ["webp", 12],
  ] as const) {
    it(`writes ${format} that decodes back to the same picture`, async () => {
      const file = await encodeImage(image, { format });
      expect((await sharp(file).metadata()).format).toBe(format);
      const { image: decoded } = await decodeImage(file);
      expect([decoded.width, decoded.height]).toEqual([64, 48]);
      expectPixelNear(decoded, 12, 24, RED, tolerance);
      expectPixelNear(decoded, 52, 24, BLUE, tolerance);
    });
  }

  it("gives smaller files at lower quality", async () => {
    const noise = noiseImage(96, 96);
    const high = await encodeImage(noise, { format: "jpeg", quality: 95 });
    const low = await encodeImage(noise, { format: "jpeg", quality: 30 });
    expect(low.length).toBeLessThan(high.length);
  });

  it("rejects bad quality and malformed images", async () => {
    await expect(encodeImage(image, { format: "jpeg", quality: 0 })).rejects.toThrow(RangeError);
    await expect(encodeImage(image, { format: "webp", quality: 101 })).rejects.toThrow(RangeError);
    const broken = { ...image, data: image.data.subarray(1) };
    await expect(encodeImage(broken, { format: "png" })).rejects.toThrow(/data has/);
  });
});

describe("encodeToFit", () => {
  // Noise barely compresses: PNG is ~100 KB, so every rung of the ladder gets exercised.
  const noise = noiseImage(192, 144);

  it("keeps lossless PNG when it fits", async () => {
    const fitted = await encodeToFit(noise, 1_000_000);
    expect(fitted).toMatchObject({ format: "png", width: 192, height: 144 });
    expect(fitted.quality).toBeUndefined();
    const { data } = await sharp(fitted.data).raw().toBuffer({ resolveWithObject: true });
    expect(Buffer.compare(data, Buffer.from(noise.data))).toBe(0);
  });

  it("falls back to lossy at full size when quality alone is enough", async () => {
    const budget = (await encodeImage(noise, { format: "jpeg", quality: 70 })).length;
    const fitted = await encodeToFit(noise, budget);
    expect(fitted).toMatchObject({ format: "jpeg", width: 192, height: 144 });
    expect(fitted.quality).toBeGreaterThanOrEqual(70);
    expect(fitted.data.length).toBeLessThanOrEqual(budget);
  });

  it("shrinks the image when needed, keeping the aspect ratio", async () => {
    const fitted = await encodeToFit(noise, 4_000, { lossyFormat: "webp" });
    expect(fitted.data.length).toBeLessThanOrEqual(4_000);
    expect(fitted.format).toBe("webp");
    const metadata = await sharp(fitted.data).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(["webp", fitted.width, fitted.height]);
    expect(fitted.width).toBeLessThan(192);
    expect(fitted.width / fitted.height).toBeCloseTo(192 / 144, 1);
  });

  it("gives up clearly when nothing can fit", async () => {
    await expect(encodeToFit(noise, 50)).rejects.toThrow(/Could not encode the image in 50 bytes/);
    await expect(encodeToFit(noise, 0)).rejects.toThrow(RangeError);
  });
});

describe("encodeAnimation", () => {
  // Frames of different sizes: all must come out at the last frame's size.
  const frames = [solidImage(128, 96, GREEN), solidImage(32, 24, RED), twoToneImage(64, 48, BLUE, RED)];

  for (const format of ["gif", "webp"] as const) {
    it(`builds an animated ${format} with one page per frame`, async () => {
      const file = await encodeAnimation(frames, { format, delayMs: 100, holdLastMs: 800 });
      const metadata = await sharp(file).metadata();
      expect(metadata).toMatchObject({ format, pages: 3, width: 64, height: 48 });
      expect(metadata.delay).toEqual([100, 100, 800]);
      const first = await decodeImage(file);
      expect(first.animated).toBe(true);
      expectPixelNear(first.image, 32, 24, GREEN, 12);
      const last = await sharp(file, { page: 2 }).removeAlpha().raw().toBuffer();
      expectPixelNear({ data: last, width: 64, height: 48 }, 8, 24, BLUE, 12);
    });
  }

  it("fits frames within maxEdge", async () => {
    const file = await encodeAnimation(frames, { format: "gif", delayMs: 50, maxEdge: 32 });
    expect(await sharp(file).metadata()).toMatchObject({ pages: 3, width: 32, height: 24 });
  });

  it("rejects no frames and out-of-range delays", async () => {
    await expect(encodeAnimation([], { format: "gif", delayMs: 100 })).rejects.toThrow(/at least one frame/);
    await expect(encodeAnimation(frames, { format: "webp", delayMs: -1 })).rejects.toThrow(RangeError);
    await expect(
      encodeAnimation(frames, { format: "webp", delayMs: 10, holdLastMs: 70_000 }),
    ).rejects.toThrow(RangeError);
  });
});

describe("encodeFile", () => {
  const directory = mkdtempSync(join(tmpdir(), "stylize-images-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const image = twoToneImage(40, 30, RED, BLUE);

  for (const [name, format] of [
    ["out.png", "png"],
    ["out.JPG", "jpeg"],
    ["out.jpeg", "jpeg"],
    ["out.webp", "webp"],
  ] as const) {
    it(`writes ${name} as ${format}`, async () => {
      const path = join(directory, name);
      await encodeFile(image, path);
      const metadata = await sharp(readFileSync(path)).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual([format, 40, 30]);
    });
  }

  it("replaces an existing file whole, leaving no temporary file beside it", async () => {
    const folder = mkdtempSync(join(directory, "replace-"));
    const path = join(folder, "result.png");
    writeFileSync(path, "an older result");
    await encodeFile(image, path);
    expect((await sharp(readFileSync(path)).metadata()).format).toBe("png");
    expect(readdirSync(folder)).toEqual(["result.png"]);
  });

  it("refuses other extensions with a friendly error and writes nothing", async () => {
    const path = join(directory, "out.bmp");
    const error = await encodeFile(image, path).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ImageInputError);
    expect(error).toMatchObject({
      code: "unsupported_output_format",
      message: 'I can\'t save images as ".bmp" — use a file name ending in .png, .jpg, .jpeg or .webp.',
    });
    expect(existsSync(path)).toBe(false);
    expect(() => outputFormatForPath("/tmp/result")).toThrow(/"result" has no file extension/);
  });
});
