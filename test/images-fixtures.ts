/** Inputs for the images tests, all generated in memory with sharp or by hand: no binary fixtures. */
import { constants, crc32, deflateRawSync } from "node:zlib";
import sharp from "sharp";
import { expect } from "vitest";
import type { RgbImage } from "../src/engine/types.js";

export type Rgb = readonly [number, number, number];

export const RED: Rgb = [220, 30, 40];
export const BLUE: Rgb = [30, 60, 200];
export const GREEN: Rgb = [40, 180, 60];

function colour([r, g, b]: Rgb) {
  return { r, g, b };
}

export function solidImage(width: number, height: number, fill: Rgb): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(fill, i);
  return { data, width, height };
}

/** Left half `left`, right half `right`: shows both size and orientation survive a round trip. */
export function twoToneImage(width: number, height: number, left: Rgb, right: Rgb): RgbImage {
  const image = solidImage(width, height, right);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width / 2; x++) image.data.set(left, (y * width + x) * 3);
  }
  return image;
}

/** Deterministic, incompressible-looking pixels (a tiny LCG, so runs are repeatable). */
export function noiseImage(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    data[i] = state >>> 24;
  }
  return { data, width, height };
}

export function rawSharp(image: RgbImage) {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** A solid-colour file of the given size, encoded by sharp (lazy: even large sizes cost little memory). */
export function solidFile(width: number, height: number, fill: Rgb) {
  return sharp({ create: { width, height, channels: 3, background: colour(fill) } });
}

export function pixelAt(image: RgbImage, x: number, y: number): Rgb {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

export function expectPixelNear(
  image: RgbImage,
  x: number,
  y: number,
  expected: Rgb,
  tolerance: number,
): void {
  const actual = pixelAt(image, x, y);
  const off = Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!)));
  expect(off, `pixel (${x},${y}) is [${actual}], expected [${expected}] ±${tolerance}`).toBeLessThanOrEqual(
    tolerance,
  );
}

/** One PNG chunk: length, type, data and the CRC-32 of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/**
 * A genuine, valid all-black 1-bit greyscale PNG of any size, built without ever holding its pixels: the zlib
 * stream repeats one sync-flushed deflate segment of zero rows (back-references only ever reach zeros, so
 * repeating it is valid), then ends with an empty final block and the Adler-32 of the zeros. 30000×30000 is
 * ~110 KB on disk and 900 megapixels decoded.
 */
export function blackPngBomb(width: number, height: number): Buffer {
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed 1-bit pixels
  const rowsPerSegment = Math.min(height, 1000);
  const segment = (rows: number) =>
    deflateRawSync(Buffer.alloc(rows * rowBytes), { finishFlush: constants.Z_SYNC_FLUSH });
  const full = segment(rowsPerSegment);
  const parts: Buffer[] = [Buffer.from([0x78, 0x01])]; // zlib header: deflate, 32K window, no dictionary
  for (let rows = 0; rows < height; rows += rowsPerSegment) {
    parts.push(rows + rowsPerSegment <= height ? full : segment(height - rows));
  }
  parts.push(Buffer.from([0x03, 0x00])); // final empty fixed-Huffman block
  // Adler-32 of n zero bytes: a stays 1, b adds 1 per byte.
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((height * rowBytes) % 65_521) * 65_536 + 1) >>> 0);
  parts.push(adler);

  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, adaptive filtering, not interlaced
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", Buffer.concat(parts)),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}
