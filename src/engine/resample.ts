import type { RgbImage } from "./types.js";

/**
 * Resizes an RgbImage in plain JS with a separable triangle (bilinear) filter whose support widens with
 * the reduction factor, as Pillow's BILINEAR does: area-aware when shrinking (no aliasing when a 4000 px
 * photo becomes a 90 px first scale), ordinary bilinear when enlarging. Deterministic on every platform.
 */
export function resampleImage(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`cannot resample to ${width}×${height}`);
  }
  const src = Float32Array.from(image.data);
  const horizontal = resampleAxis(src, image.width, image.height, width, true);
  const both = resampleAxis(horizontal, width, image.height, height, false);
  const data = new Uint8Array(both.length);
  for (let i = 0; i < both.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(both[i]!)));
  return { data, width, height };
}

/** Filter taps for resampling a line of `from` pixels to `to` pixels. */
function taps(from: number, to: number): { first: number; weights: number[] }[] {
  const scale = from / to;
  const radius = Math.max(1, scale);
  return Array.from({ length: to }, (_, i) => {
    const center = (i + 0.5) * scale;
    const first = Math.max(0, Math.floor(center - radius));
    const last = Math.min(from - 1, Math.ceil(center + radius));
    const weights: number[] = [];
    for (let j = first; j <= last; j++) weights.push(Math.max(0, 1 - Math.abs(j + 0.5 - center) / radius));
    const sum = weights.reduce((a, b) => a + b, 0);
    return { first, weights: weights.map((w) => w / sum) };
  });
}

/** Resamples along x (`alongX`) or y; `lineLength`/`lines` describe the input, RGB interleaved. */
function resampleAxis(src: Float32Array, width: number, height: number, to: number, alongX: boolean) {
  const outWidth = alongX ? to : width;
  const outHeight = alongX ? height : to;
  const out = new Float32Array(outWidth * outHeight * 3);
  const filter = taps(alongX ? width : height, to);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { first, weights } = filter[alongX ? x : y]!;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < weights.length; k++) {
        const s = alongX ? (y * width + first + k) * 3 : ((first + k) * width + x) * 3;
        const w = weights[k]!;
        r += src[s]! * w;
        g += src[s + 1]! * w;
        b += src[s + 2]! * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return out;
}
