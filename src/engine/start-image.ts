import * as tf from "@tensorflow/tfjs-core";
import { luminanceImage } from "./color.js";
import { gaussianNoise } from "./random.js";
import { resampleImage } from "./resample.js";
import { imageToTensor } from "./tensor-image.js";
import type { RgbImage, StylizeOptions } from "./types.js";

/**
 * Where a run starts, decided by its seed. From the photo (or `initImage`) plus smooth seeded noise: blobs a
 * fraction of the picture across, which the content loss (at a deep layer, blind to smooth shifts of colour)
 * barely pulls back, so the optimiser settles into a different painting for each seed instead of the same
 * one; fine-grained noise would only add grain that the first steps remove. From noise: the engine's
 * classic grey plus white noise, seeded.
 */

/**
 * Default standard deviation of the smooth noise added to a photo start, in pixel values (0..255): on the
 * reference weights two seeds' paintings then differ about as much as a painting differs from its photo
 * (docs/look.md), while the photo's layout stays.
 */
export const START_NOISE_STD = 40;
/** Noise init: mid grey plus this standard deviation of seeded Gaussian noise, in pixel values. */
const WHITE_NOISE_STD = 32;

/**
 * The smooth noise's octaves: cells along the long edge and relative amplitude. Relative to the picture,
 * not in pixels, so a seed gives the same blobs at every size.
 */
const OCTAVES = [
  { cells: 2, amplitude: 1 },
  { cells: 4, amplitude: 0.7 },
  { cells: 8, amplitude: 0.45 },
] as const;

export type StartOptions = Pick<StylizeOptions, "init" | "seed" | "colorMode" | "initImage" | "startNoise">;

/** The first scale's start, at `content`'s size (the content already at that scale). */
export function startImage(options: StartOptions, content: RgbImage): tf.Tensor4D {
  const { width, height } = content;
  if (options.init === "noise" && !options.initImage) {
    const noise = gaussianNoise(width * height * 3, options.seed);
    return tf.tidy(() =>
      tf.clipByValue(
        tf.add(tf.mul(tf.tensor4d(noise, [1, height, width, 3]), WHITE_NOISE_STD), 127.5),
        0,
        255,
      ),
    ) as tf.Tensor4D;
  }
  const photo = options.initImage ? resampleImage(options.initImage, width, height) : content;
  const base = options.colorMode === "luminance" ? luminanceImage(photo) : photo;
  if (options.startNoise === 0) return imageToTensor(base);
  const noise = smoothNoise(width, height, options.seed);
  return tf.tidy(() =>
    tf.clipByValue(
      tf.add(imageToTensor(base), tf.mul(tf.tensor4d(noise, [1, height, width, 3]), options.startNoise)),
      0,
      255,
    ),
  ) as tf.Tensor4D;
}

/**
 * Seeded smooth noise, RGB interleaved, zero mean and unit standard deviation per channel: the sum of
 * OCTAVES of Gaussian values on a coarse grid, interpolated with a smoothstep (no visible grid lines).
 */
export function smoothNoise(width: number, height: number, seed: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const longEdge = Math.max(width, height);
  OCTAVES.forEach(({ cells, amplitude }, octave) => {
    const step = longEdge / cells;
    const gridW = Math.ceil(width / step) + 1;
    const gridH = Math.ceil(height / step) + 1;
    // A distinct stream per octave, all from the one seed.
    const grid = gaussianNoise(gridW * gridH * 3, (seed + 0x9e3779b9 * (octave + 1)) >>> 0);
    for (let y = 0; y < height; y++) {
      const gy = (y + 0.5) / step;
      const y0 = Math.min(Math.floor(gy), gridH - 2);
      const ty = smoothstep(gy - y0);
      for (let x = 0; x < width; x++) {
        const gx = (x + 0.5) / step;
        const x0 = Math.min(Math.floor(gx), gridW - 2);
        const tx = smoothstep(gx - x0);
        for (let c = 0; c < 3; c++) {
          const at = (gxi: number, gyi: number) => grid[(gyi * gridW + gxi) * 3 + c]!;
          const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * tx;
          const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * tx;
          out[(y * width + x) * 3 + c]! += amplitude * (top + (bottom - top) * ty);
        }
      }
    }
  });
  return standardised(out);
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Zero mean, unit standard deviation per channel (interpolation shrinks the variance unevenly). */
function standardised(values: Float32Array): Float32Array {
  const n = values.length / 3;
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    let squares = 0;
    for (let i = c; i < values.length; i += 3) {
      sum += values[i]!;
      squares += values[i]! ** 2;
    }
    const mean = sum / n;
    const std = Math.sqrt(Math.max(squares / n - mean ** 2, 1e-12));
    for (let i = c; i < values.length; i += 3) values[i] = (values[i]! - mean) / std;
  }
  return values;
}
