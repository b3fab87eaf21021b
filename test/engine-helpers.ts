/** Shared inputs for the engine tests: tiny seeded VGG-shaped weights and small synthetic images. */

import { gaussianNoise } from "../src/engine/random.js";
import type { ConvWeights, RgbImage, VggWeights } from "../src/engine/types.js";
import { VGG19_CONVS } from "../src/engine/vgg19-spec.js";

/** The first `layers` VGG19 convs with `channels` filters each, He-initialised from `seed`. */
export function tinyWeights(layers: number, channels = 4, seed = 1): VggWeights {
  const map = new Map<string, ConvWeights>();
  let cin = 3;
  for (const [i, spec] of VGG19_CONVS.slice(0, layers).entries()) {
    const noise = gaussianNoise(9 * cin * channels + channels, seed * 1000 + i);
    const scale = Math.sqrt(2 / (9 * cin));
    map.set(spec.name, {
      kernelShape: [3, 3, cin, channels],
      kernel: noise.subarray(0, 9 * cin * channels).map((v) => v * scale),
      bias: noise.subarray(9 * cin * channels).map((v) => v * 0.1),
    });
    cin = channels;
  }
  return map;
}

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
