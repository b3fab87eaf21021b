import type { RgbImage } from "../../src/engine/index.js";

/** What the contact sheets print beside each painting. */

/** Mean absolute difference per channel (0..255) of two images of the same size. */
export function meanAbsDifference(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error("images differ in size");
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/**
 * How much of the fine detail is locked to a grid of the given period (a pooling lattice): the luminance
 * minus its 3×3 average, averaged separately over each of the period² grid phases; the spread of those
 * averages over the spread of the detail itself. For detail that ignores the grid only sampling noise is
 * left, about period / √pixels (0.024 at period 8 on 384×288); up to 1 for a pure lattice.
 */
export function gridEnergy(image: RgbImage, period: number): number {
  const { width, height, data } = image;
  const luma = new Float32Array(width * height);
  for (let i = 0; i < luma.length; i++) {
    luma[i] = 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
  }
  const sums = new Float64Array(period * period);
  const counts = new Float64Array(period * period);
  let squares = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      let local = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) local += luma[(y + dy) * width + x + dx]!;
      const detail = luma[y * width + x]! - local / 9;
      const phase = (y % period) * period + (x % period);
      sums[phase]! += detail;
      counts[phase]! += 1;
      squares += detail * detail;
      n += 1;
    }
  }
  const means = Array.from(sums, (s, i) => s / counts[i]!);
  const mean = means.reduce((a, b) => a + b, 0) / means.length;
  const spread = Math.sqrt(means.reduce((a, m) => a + (m - mean) ** 2, 0) / means.length);
  return spread / Math.sqrt(squares / n);
}

/**
 * The size of the marks painting added, as a fraction of the picture's long edge: for the luminance of
 * painting − photo, its spread divided by its mean gradient (λ/(4√2) for a sine of wavelength λ, so
 * proportional to the marks' size), over the long edge. Equal at two output sizes means the
 * marks kept their size relative to the picture.
 */
export function strokeScale(painting: RgbImage, photo: RgbImage): number {
  const { width, height } = painting;
  const luma = (image: RgbImage, i: number) =>
    0.299 * image.data[i * 3]! + 0.587 * image.data[i * 3 + 1]! + 0.114 * image.data[i * 3 + 2]!;
  const residual = new Float32Array(width * height);
  for (let i = 0; i < residual.length; i++) residual[i] = luma(painting, i) - luma(photo, i);
  const mean = residual.reduce((a, b) => a + b, 0) / residual.length;
  let squares = 0;
  let gradient = 0;
  let n = 0;
  for (let y = 0; y < height - 1; y++) {
    for (let x = 0; x < width - 1; x++) {
      const i = y * width + x;
      squares += (residual[i]! - mean) ** 2;
      gradient += Math.hypot(residual[i + 1]! - residual[i]!, residual[i + width]! - residual[i]!);
      n += 1;
    }
  }
  return Math.sqrt(squares / n) / (gradient / n) / Math.max(width, height);
}
