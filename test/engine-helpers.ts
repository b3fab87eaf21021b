/** Small synthetic images shared by the engine tests (tiny weights come from fixtures/tiny-vgg.ts). */

import type { RgbImage } from "../src/engine/types.js";

/** A smooth colourful test pattern with some texture, deterministic for a given seed. */
export function patternImage(width: number, height: number, seed = 0): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 128 + 100 * Math.sin((x + seed) / 5);
      data[i + 1] = 128 + 100 * Math.cos((y - seed) / 7);
      data[i + 2] = 128 + 90 * Math.sin((x + y + 3 * seed) / 3);
    }
  }
  return { data, width, height };
}

/** Diagonal stripes in two colours: a strong, simple "style". */
export function stripesImage(
  width: number,
  height: number,
  a: readonly number[] = [230, 200, 40],
  b: readonly number[] = [30, 40, 160],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set((x + y) % 6 < 3 ? a : b, (y * width + x) * 3);
  }
  return { data, width, height };
}
