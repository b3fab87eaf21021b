import type { RgbImage, StylizeOptions } from "./types.js";

/**
 * Colour preservation (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving color in neural artistic
 * style transfer"), on plain RgbImages:
 * - luminance-only transfer: stylise the luminance channel (style luminance matched to the content's mean
 *   and spread), then put the content's chroma back (YIQ);
 * - colour histogram matching: recolour each style image so its mean and covariance are the content's,
 *   before any style target is computed.
 */

type Vec3 = [number, number, number];
type Mat3 = [Vec3, Vec3, Vec3];

/** RGB → YIQ (NTSC 1953). */
const RGB_TO_YIQ: Mat3 = [
  [0.299, 0.587, 0.114],
  [0.595716, -0.274453, -0.321263],
  [0.211456, -0.522591, 0.311135],
];
const YIQ_TO_RGB = inverse3(RGB_TO_YIQ);

function apply3(m: Mat3, v: Vec3): Vec3 {
  return [0, 1, 2].map((r) => m[r]![0] * v[0] + m[r]![1] * v[1] + m[r]![2] * v[2]) as Vec3;
}

function multiply3(a: Mat3, b: Mat3): Mat3 {
  return [0, 1, 2].map((r) =>
    [0, 1, 2].map((c) => a[r]![0] * b[0]![c]! + a[r]![1] * b[1]![c]! + a[r]![2] * b[2]![c]!),
  ) as Mat3;
}

function inverse3(m: Mat3): Mat3 {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

function pixel(image: RgbImage, i: number): Vec3 {
  return [image.data[i * 3]!, image.data[i * 3 + 1]!, image.data[i * 3 + 2]!];
}

function mapPixels(image: RgbImage, f: (rgb: Vec3, i: number) => Vec3): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < image.width * image.height; i++) {
    const out = f(pixel(image, i), i);
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.min(255, Math.max(0, Math.round(out[c]!)));
  }
  return { data, width: image.width, height: image.height };
}

/** Per-pixel YIQ of an image. */
export function toYiq(image: RgbImage): Float32Array {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < image.width * image.height; i++) out.set(apply3(RGB_TO_YIQ, pixel(image, i)), i * 3);
  return out;
}

/** An image's luminance (Y of YIQ) per pixel, with its mean and standard deviation. */
interface Luminance {
  readonly y: Float32Array;
  readonly mean: number;
  readonly std: number;
}

/**
 * Y per pixel: row 0 of RGB_TO_YIQ as a plain loop (what apply3 computes for Y, in the same order, so
 * bit-identical, without two arrays per pixel).
 */
function luma(image: RgbImage): Float32Array {
  const [wr, wg, wb] = RGB_TO_YIQ[0];
  const { data } = image;
  const y = new Float32Array(image.width * image.height);
  for (let i = 0; i < y.length; i++) y[i] = wr * data[i * 3]! + wg * data[i * 3 + 1]! + wb * data[i * 3 + 2]!;
  return y;
}

function luminance(image: RgbImage): Luminance {
  const y = luma(image);
  return { y, ...meanStd(y) };
}

export function luminanceStats(image: RgbImage): { mean: number; std: number } {
  return meanStd(luma(image));
}

/** The luminance as a grey RGB image, optionally shifted and scaled to the given mean and deviation. */
export function luminanceImage(image: RgbImage, match?: { mean: number; std: number }): RgbImage {
  return greyImage(image, luminance(image), match);
}

/** luminanceImage from the image's already computed luminance `own`. */
function greyImage(image: RgbImage, own: Luminance, match?: { mean: number; std: number }): RgbImage {
  const scale = match && own.std > 1e-6 ? match.std / own.std : 1;
  const mean = match ? match.mean : own.mean;
  return mapPixels(image, (_, i) => {
    const v = (own.y[i]! - own.mean) * scale + mean;
    return [v, v, v];
  });
}

function meanStd(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

/** The luminance of `stylised` with the chroma (I, Q) of `content`; both must have the same size. */
export function withContentChroma(stylised: RgbImage, content: RgbImage): RgbImage {
  if (stylised.width !== content.width || stylised.height !== content.height) {
    throw new Error(
      `withContentChroma: ${stylised.width}×${stylised.height} vs ${content.width}×${content.height}`,
    );
  }
  return mapPixels(stylised, (rgb, i) => {
    const [y] = apply3(RGB_TO_YIQ, rgb);
    const [, chromaI, chromaQ] = apply3(RGB_TO_YIQ, pixel(content, i));
    return apply3(YIQ_TO_RGB, [y, chromaI, chromaQ]);
  });
}

/** Mean colour and 3×3 colour covariance of an image. */
export function colorStats(image: RgbImage): { mean: Vec3; cov: Mat3 } {
  const n = image.width * image.height;
  const mean: Vec3 = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) mean[c]! += image.data[i * 3 + c]! / n;
  const cov: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < n; i++) {
    const d = pixel(image, i).map((v, c) => v - mean[c]!);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) cov[r]![c]! += (d[r]! * d[c]!) / n;
  }
  return { mean, cov };
}

/**
 * Recolours `style` so that its colour mean and covariance become `content`'s: x ↦ A(x − μs) + μc with
 * A = Σc^½ Σs^-½ (the symmetric square roots; the "image analogies" variant the paper prefers).
 */
export function matchColorHistogram(style: RgbImage, content: RgbImage): RgbImage {
  const s = colorStats(style);
  const c = colorStats(content);
  const a = multiply3(symmetricPower(c.cov, 0.5), symmetricPower(s.cov, -0.5));
  return mapPixels(style, (rgb) => {
    const moved = apply3(a, [rgb[0] - s.mean[0], rgb[1] - s.mean[1], rgb[2] - s.mean[2]]);
    return [moved[0] + c.mean[0], moved[1] + c.mean[1], moved[2] + c.mean[2]];
  });
}

/** M^p for a symmetric positive semi-definite 3×3 matrix (Jacobi eigendecomposition; tiny eigenvalues floored). */
function symmetricPower(m: Mat3, power: number): Mat3 {
  const a = m.map((row) => [...row]) as Mat3;
  const v: Mat3 = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[0][1]) + Math.abs(a[0][2]) + Math.abs(a[1][2]);
    if (off < 1e-12) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      if (Math.abs(a[p][q]) < 1e-15) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cos = 1 / Math.sqrt(t * t + 1);
      const sin = t * cos;
      for (let k = 0; k < 3; k++) {
        const [akp, akq] = [a[k]![p]!, a[k]![q]!];
        a[k]![p] = cos * akp - sin * akq;
        a[k]![q] = sin * akp + cos * akq;
      }
      for (let k = 0; k < 3; k++) {
        const [apk, aqk] = [a[p]![k]!, a[q]![k]!];
        a[p]![k] = cos * apk - sin * aqk;
        a[q]![k] = sin * apk + cos * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const [vkp, vkq] = [v[k]![p]!, v[k]![q]!];
        v[k]![p] = cos * vkp - sin * vkq;
        v[k]![q] = sin * vkp + cos * vkq;
      }
    }
  }
  // A flat style image has zero variance in some direction; the floor keeps Σs^-½ finite.
  const eig = [0, 1, 2].map((i) => Math.max(a[i]![i]!, 1e-2) ** power);
  return [0, 1, 2].map((r) =>
    [0, 1, 2].map(
      (c) => v[r]![0] * eig[0]! * v[c]![0] + v[r]![1] * eig[1]! * v[c]![1] + v[r]![2] * eig[2]! * v[c]![2],
    ),
  ) as Mat3;
}

export interface SourceImages {
  /** The image the output's colours come from. */
  readonly content: RgbImage;
  /** What the network sees as the content (the luminance only, in luminance mode). */
  readonly contentSeen: RgbImage;
  readonly styles: readonly { image: RgbImage; weight: number }[];
}

/** The images the network sees under the colour mode, prepared once at full resolution. */
export function colorSources(
  options: Pick<StylizeOptions, "content" | "styles" | "colorMode">,
): SourceImages {
  const { content, styles, colorMode } = options;
  if (colorMode === "histogram") {
    return {
      content,
      contentSeen: content,
      styles: styles.map((s) => ({ ...s, image: matchColorHistogram(s.image, content) })),
    };
  }
  if (colorMode === "luminance") {
    // Gatys et al. 2016: match the style luminance's mean and spread to the content's.
    const own = luminance(content);
    const stats = { mean: own.mean, std: own.std };
    return {
      content,
      contentSeen: greyImage(content, own),
      styles: styles.map((s) => ({ ...s, image: luminanceImage(s.image, stats) })),
    };
  }
  return { content, contentSeen: content, styles };
}
