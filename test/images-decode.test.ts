import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_IMAGE_LIMITS,
  type DecodedImage,
  decodeImage,
  ImageInputError,
  type ImageInputErrorCode,
} from "../src/images/index.js";
import { REFERENCE_DIR, warnSkipping } from "./helpers/reference.js";
import {
  BLUE,
  blackPngBomb,
  expectPixelNear,
  GREEN,
  noiseImage,
  pixelAt,
  RED,
  type Rgb,
  rawSharp,
  solidFile,
  twoToneImage,
} from "./images-fixtures.js";

async function expectRefusal(
  input: Promise<DecodedImage>,
  code: ImageInputErrorCode,
): Promise<ImageInputError> {
  const error = await input.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ImageInputError);
  expect((error as ImageInputError).code).toBe(code);
  return error as ImageInputError;
}

describe("decodeImage: formats", () => {
  const twoTone = twoToneImage(64, 48, RED, BLUE);
  // Lossy codecs may shift colours a little; GIF quantises to a palette.
  const cases = [
    { format: "jpeg", encode: () => rawSharp(twoTone).jpeg({ quality: 95 }), tolerance: 12 },
    { format: "png", encode: () => rawSharp(twoTone).png(), tolerance: 0 },
    { format: "webp", encode: () => rawSharp(twoTone).webp({ quality: 95 }), tolerance: 12 },
    { format: "avif", encode: () => rawSharp(twoTone).avif({ quality: 90 }), tolerance: 12 },
    { format: "tiff", encode: () => rawSharp(twoTone).tiff({ compression: "lzw" }), tolerance: 0 },
    { format: "gif", encode: () => rawSharp(twoTone).gif(), tolerance: 8 },
  ] as const;

  for (const { format, encode, tolerance } of cases) {
    it(`round-trips ${format} with the right size, format and colours`, async () => {
      const decoded = await decodeImage(await encode().toBuffer());
      expect(decoded.format).toBe(format);
      expect(decoded.animated).toBe(false);
      expect([decoded.image.width, decoded.image.height]).toEqual([64, 48]);
      expect([decoded.sourceWidth, decoded.sourceHeight]).toEqual([64, 48]);
      expect(decoded.image.data.length).toBe(64 * 48 * 3);
      expectPixelNear(decoded.image, 12, 24, RED, tolerance);
      expectPixelNear(decoded.image, 52, 24, BLUE, tolerance);
    });
  }

  it("applies EXIF orientation 6 (rotate 90° clockwise)", async () => {
    const file = await rawSharp(twoToneImage(40, 20, RED, BLUE))
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(file).metadata()).orientation).toBe(6);
    const decoded = await decodeImage(file);
    expect([decoded.image.width, decoded.image.height]).toEqual([20, 40]);
    expect([decoded.sourceWidth, decoded.sourceHeight]).toEqual([20, 40]);
    // The left (red) half is now on top.
    expectPixelNear(decoded.image, 10, 5, RED, 12);
    expectPixelNear(decoded.image, 10, 35, BLUE, 12);
    // Downscaling applies to the upright image.
    const small = await decodeImage(file, { maxEdge: 20 });
    expect([small.image.width, small.image.height]).toEqual([10, 20]);
    expectPixelNear(small.image, 5, 2, RED, 12);
  });

  it("flattens transparency onto white", async () => {
    // Left half fully transparent black, right half opaque green, bottom row 50% black.
    const rgba = Buffer.alloc(32 * 32 * 4);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const i = (y * 32 + x) * 4;
        if (y === 31) rgba.set([0, 0, 0, 128], i);
        else if (x >= 16) rgba.set([...GREEN, 255], i);
      }
    }
    const file = await sharp(rgba, { raw: { width: 32, height: 32, channels: 4 } })
      .png()
      .toBuffer();
    expect((await sharp(file).metadata()).hasAlpha).toBe(true);
    const { image } = await decodeImage(file);
    expect(image.data.length).toBe(32 * 32 * 3);
    expectPixelNear(image, 4, 4, [255, 255, 255], 0);
    expectPixelNear(image, 24, 4, GREEN, 0);
    expectPixelNear(image, 4, 31, [127, 127, 127], 2);
  });

  it("converts CMYK JPEG to RGB", async () => {
    const colours: Rgb[] = [
      [60, 120, 180],
      [200, 150, 100],
    ];
    for (const fill of colours) {
      const file = await solidFile(32, 32, fill).toColourspace("cmyk").jpeg({ quality: 100 }).toBuffer();
      const metadata = await sharp(file).metadata();
      expect([metadata.space, metadata.channels]).toEqual(["cmyk", 4]);
      const { image } = await decodeImage(file);
      expect(image.data.length).toBe(32 * 32 * 3);
      // A CMYK round trip through the default profile is not exact, but is far from the raw ink values.
      expectPixelNear(image, 16, 16, fill, 16);
    }
  });

  it("reduces 16-bit PNG to 8-bit", async () => {
    const file = await solidFile(32, 32, [200, 100, 50]).toColourspace("rgb16").png().toBuffer();
    expect((await sharp(file).metadata()).depth).toBe("ushort");
    const { image } = await decodeImage(file);
    expect(image.data.length).toBe(32 * 32 * 3);
    expectPixelNear(image, 16, 16, [200, 100, 50], 1);
  });

  it("expands greyscale to three equal channels", async () => {
    const file = await solidFile(32, 32, [90, 90, 90]).toColourspace("b-w").png().toBuffer();
    expect((await sharp(file).metadata()).channels).toBe(1);
    const { image } = await decodeImage(file);
    expect(image.data.length).toBe(32 * 32 * 3);
    expectPixelNear(image, 16, 16, [90, 90, 90], 1);
  });

  it("converts other ICC profiles (Display P3) to sRGB", async () => {
    const file = await solidFile(32, 32, [255, 0, 0]).withIccProfile("p3").png().toBuffer();
    // Stored values are P3 coordinates, visibly not sRGB red...
    const stored = await sharp(file).keepIccProfile().raw().toBuffer();
    expect(stored[1]).toBeGreaterThan(30);
    // ...but decoding honours the profile.
    const { image } = await decodeImage(file);
    expectPixelNear(image, 16, 16, [255, 0, 0], 3);
  });

  for (const format of ["gif", "webp"] as const) {
    it(`takes the first frame of an animated ${format}`, async () => {
      const frames: Rgb[] = [GREEN, RED, BLUE];
      const strip = Buffer.concat(frames.map((fill) => twoToneImage(40, 30, fill, fill).data));
      const file = await sharp(strip, { raw: { width: 40, height: 90, channels: 3, pageHeight: 30 } })
        [format]({ delay: [100, 100, 100] })
        .toBuffer();
      expect((await sharp(file).metadata()).pages).toBe(3);
      const decoded = await decodeImage(file);
      expect(decoded).toMatchObject({ format, animated: true, sourceWidth: 40, sourceHeight: 30 });
      expect([decoded.image.width, decoded.image.height]).toEqual([40, 30]);
      expectPixelNear(decoded.image, 20, 15, GREEN, 10);
    });
  }

  it("downscales to maxEdge while decoding, never enlarging", async () => {
    const file = await rawSharp(twoToneImage(400, 200, RED, BLUE))
      .png()
      .toBuffer();
    const small = await decodeImage(file, { maxEdge: 100 });
    expect([small.image.width, small.image.height]).toEqual([100, 50]);
    expect([small.sourceWidth, small.sourceHeight]).toEqual([400, 200]);
    expect(small.image.data.length).toBe(100 * 50 * 3);
    expectPixelNear(small.image, 10, 25, RED, 2);
    expectPixelNear(small.image, 90, 25, BLUE, 2);
    const untouched = await decodeImage(file, { maxEdge: 1000 });
    expect([untouched.image.width, untouched.image.height]).toEqual([400, 200]);
  });

  const tubingen = path.join(REFERENCE_DIR, "images/content/tubingen.jpg");
  const hasTubingen = existsSync(tubingen);
  if (!hasTubingen) warnSkipping("the images-decode reference photo test", `${tubingen} is absent`);
  it.skipIf(!hasTubingen)("decodes the reference photo tubingen.jpg", async () => {
    const decoded = await decodeImage(readFileSync(tubingen));
    expect(decoded.format).toBe("jpeg");
    expect([decoded.image.width, decoded.image.height]).toEqual([1024, 768]);
    expect(decoded.image.data.length).toBe(1024 * 768 * 3);
  });
});

describe("decodeImage: refusals", () => {
  it("refuses text, random bytes and empty input as not_an_image, with a readable message", async () => {
    const text = Buffer.from("Hello! This is definitely a PNG, trust me.\n");
    const error = await expectRefusal(decodeImage(text), "not_an_image");
    expect(error.message).toBe(
      "That file isn't an image I can read — send a JPEG, PNG, WebP, AVIF, TIFF or GIF.",
    );
    await expectRefusal(decodeImage(Buffer.from(noiseImage(64, 64).data)), "not_an_image");
    await expectRefusal(decodeImage(Buffer.alloc(0)), "not_an_image");
  });

  it("refuses a truncated JPEG as corrupt", async () => {
    const file = await rawSharp(noiseImage(128, 128)).jpeg().toBuffer();
    await expectRefusal(decodeImage(file.subarray(0, Math.floor(file.length / 2))), "corrupt");
    // Cut inside the header, too.
    await expectRefusal(decodeImage(file.subarray(0, 40)), "corrupt");
  });

  it("refuses formats sharp reads but we do not accept (SVG)", async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>',
    );
    const error = await expectRefusal(decodeImage(svg), "unsupported_format");
    expect(error.message).toContain("SVG");
  });

  it("refuses a 30000×30000 decompression bomb from its header, without decoding it", async () => {
    const bomb = blackPngBomb(30_000, 30_000);
    expect(bomb.length).toBeLessThan(200_000);
    const metadata = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(["png", 30_000, 30_000]);

    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    const error = await expectRefusal(decodeImage(bomb), "too_many_pixels");
    // Decoding would allocate ≥ 900 MB and take seconds; the header check costs neither.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(100 * 1024 * 1024);
    expect(error.message).toContain("30000×30000");
    expect(error.message).toContain("40 megapixels");
  });

  it("builds bombs that really are valid PNGs (checked at a small size)", async () => {
    const { data, info } = await sharp(blackPngBomb(77, 2345)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([77, 2345]);
    expect(data.every((value) => value === 0)).toBe(true);
  });

  it("applies a caller's pixel limit", async () => {
    const file = await solidFile(40, 40, GREEN).png().toBuffer();
    await expectRefusal(decodeImage(file, { maxPixels: 1_599 }), "too_many_pixels");
    const decoded = await decodeImage(file, { maxPixels: 1_600 });
    expect(decoded.image.width).toBe(40);
  });

  it("refuses files over the byte limit before looking inside", async () => {
    const oversized = Buffer.alloc(DEFAULT_IMAGE_LIMITS.maxBytes + 1);
    const error = await expectRefusal(decodeImage(oversized), "file_too_large");
    expect(error.message).toBe(
      "That file is 25.1 MB — the most I can take is 25 MB. Send a smaller or more compressed version.",
    );
    const file = await rawSharp(noiseImage(64, 64)).png().toBuffer();
    await expectRefusal(decodeImage(file, { maxBytes: file.length - 1 }), "file_too_large");
    expect((await decodeImage(file, { maxBytes: file.length })).format).toBe("png");
  });

  it("refuses absurd aspect ratios", async () => {
    const file = await solidFile(10_000, 10, RED).png().toBuffer();
    const error = await expectRefusal(decodeImage(file), "bad_aspect_ratio");
    expect(error.message).toContain("10000×10");
    const tall = await solidFile(20, 161, RED).png().toBuffer();
    await expectRefusal(decodeImage(tall), "bad_aspect_ratio");
    expect((await decodeImage(await solidFile(20, 160, RED).png().toBuffer())).image.height).toBe(160);
  });

  it("refuses images below the minimum edge", async () => {
    const file = await solidFile(15, 40, RED).png().toBuffer();
    const error = await expectRefusal(decodeImage(file), "too_small");
    expect(error.message).toContain("at least 16 pixels");
    expect((await decodeImage(await solidFile(16, 40, RED).png().toBuffer())).image.width).toBe(16);
  });

  it("treats bad options as a programming error, not user input", async () => {
    const file = await solidFile(32, 32, RED).png().toBuffer();
    await expect(decodeImage(file, { maxEdge: 0 })).rejects.toThrow(RangeError);
    await expect(decodeImage(file, { maxPixels: Number.NaN })).rejects.toThrow(RangeError);
  });

  it("reads pixels row-major", async () => {
    // Guards the RgbImage layout itself: top row green, the rest red.
    const rgb = twoToneImage(32, 32, RED, RED);
    for (let x = 0; x < 32; x++) rgb.data.set(GREEN, x * 3);
    const { image } = await decodeImage(await rawSharp(rgb).png().toBuffer());
    expect(pixelAt(image, 31, 0)).toEqual(GREEN);
    expect(pixelAt(image, 0, 1)).toEqual(RED);
  });
});
