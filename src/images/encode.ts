import { basename, extname } from "node:path";
import sharp, { type Sharp } from "sharp";
import { writeFileAtomic } from "../atomic-file.js";
import type { RgbImage } from "../engine/index.js";
import { ImageInputError } from "./errors.js";
import { fitWithin } from "./geometry.js";
import { sharpFromRgb } from "./raw.js";
import { resizeImage } from "./resize.js";

export type OutputFormat = "png" | "jpeg" | "webp";
export type AnimationFormat = "webp" | "gif";

/** Quality for lossy output when the caller gives none. */
export const DEFAULT_QUALITY = 90;

export interface EncodeOptions {
  readonly format: OutputFormat;
  /** 1–100; ignored by PNG. Default DEFAULT_QUALITY. */
  readonly quality?: number;
}

export async function encodeImage(image: RgbImage, options: EncodeOptions): Promise<Buffer> {
  return withFormat(sharpFromRgb(image), options.format, options.quality ?? DEFAULT_QUALITY).toBuffer();
}

function withFormat(pipeline: Sharp, format: OutputFormat, quality: number): Sharp {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`quality must be an integer from 1 to 100, got ${quality}`);
  }
  switch (format) {
    case "png":
      return pipeline.png();
    case "jpeg":
      return pipeline.jpeg({ quality });
    case "webp":
      return pipeline.webp({ quality });
    default:
      throw new RangeError(`Unknown output format ${String(format satisfies never)}`);
  }
}

export interface FittedImage {
  readonly data: Buffer;
  readonly format: OutputFormat;
  readonly width: number;
  readonly height: number;
  /** The lossy quality used; absent for PNG. */
  readonly quality?: number;
}

export interface EncodeToFitOptions {
  /** Format to fall back to when PNG is too big. Default "jpeg", which every viewer opens. */
  readonly lossyFormat?: "jpeg" | "webp";
}

const QUALITY_LADDER = [90, 80, 70, 60, 50] as const;
const SMALLEST_LONG_EDGE = 16;

/**
 * Encodes `image` in at most `maxBytes` (e.g. Discord's attachment limit): lossless PNG if it fits, else the
 * lossy format at falling quality, else ever smaller sizes. Throws a RangeError if even a tiny image won't fit.
 */
export async function encodeToFit(
  image: RgbImage,
  maxBytes: number,
  options: EncodeToFitOptions = {},
): Promise<FittedImage> {
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`maxBytes must be a positive number, got ${maxBytes}`);
  }
  const png = await encodeImage(image, { format: "png" });
  if (png.length <= maxBytes) return { data: png, format: "png", width: image.width, height: image.height };

  const format = options.lossyFormat ?? "jpeg";
  let candidate = image;
  for (;;) {
    let smallestBytes = Number.POSITIVE_INFINITY;
    for (const quality of QUALITY_LADDER) {
      const data = await encodeImage(candidate, { format, quality });
      if (data.length <= maxBytes) {
        return { data, format, width: candidate.width, height: candidate.height, quality };
      }
      smallestBytes = Math.min(smallestBytes, data.length);
    }
    const longEdge = Math.max(candidate.width, candidate.height);
    if (longEdge <= SMALLEST_LONG_EDGE) {
      throw new RangeError(
        `Could not encode the image in ${maxBytes} bytes, even at ${candidate.width}×${candidate.height} ` +
          `and quality ${QUALITY_LADDER.at(-1)}`,
      );
    }
    // Bytes grow roughly with pixel count, so shrink each side by about √(budget ÷ size), with some margin.
    const shrink = Math.min(0.9, Math.sqrt(maxBytes / smallestBytes) * 0.95);
    const nextLongEdge = Math.max(SMALLEST_LONG_EDGE, Math.floor(longEdge * shrink));
    const size = fitWithin(image.width, image.height, nextLongEdge);
    // Always resample from the original so blur does not accumulate over rounds.
    candidate = await resizeImage(image, size.width, size.height);
  }
}

export interface AnimationOptions {
  /** How long each frame shows, in ms (0–65535; GIF stores hundredths of a second). */
  readonly delayMs: number;
  readonly format: AnimationFormat;
  /** Fit the frames within this long edge (never enlarges). */
  readonly maxEdge?: number;
  /** How long the final frame stays before the loop restarts, in ms. Default delayMs. */
  readonly holdLastMs?: number;
}

const MAX_FRAME_DELAY_MS = 65_535;

/**
 * Builds a looping animated WebP or GIF (e.g. a style-transfer timelapse). Frames may differ in size: all are
 * resized to the last frame's size, the finished result. Animated WebP may merge identical consecutive frames.
 */
export async function encodeAnimation(
  frames: readonly RgbImage[],
  options: AnimationOptions,
): Promise<Buffer> {
  const last = frames.at(-1);
  if (!last) throw new RangeError("encodeAnimation needs at least one frame");
  const holdLastMs = options.holdLastMs ?? options.delayMs;
  for (const [name, value] of [
    ["delayMs", options.delayMs],
    ["holdLastMs", holdLastMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_FRAME_DELAY_MS) {
      throw new RangeError(`${name} must be an integer from 0 to ${MAX_FRAME_DELAY_MS}, got ${value}`);
    }
  }

  const { width, height } =
    options.maxEdge === undefined ? last : fitWithin(last.width, last.height, options.maxEdge);
  const pages: RgbImage[] = [];
  // One at a time: memory stays at one extra frame and the shared CPU is not flooded.
  for (const frame of frames) pages.push(await resizeImage(frame, width, height));

  // sharp reads an animation as a vertical strip of equal pages.
  const strip = Buffer.concat(pages.map((page) => page.data));
  const pipeline = sharp(strip, {
    raw: { width, height: height * pages.length, channels: 3, pageHeight: height },
    // We built this strip ourselves; a long timelapse may legitimately exceed the default pixel limit.
    limitInputPixels: false,
  });
  // A per-frame delay array: sharp's GIF writer applies a single number to the first frame only.
  const delay = pages.map((_, index) => (index === pages.length - 1 ? holdLastMs : options.delayMs));
  const encoder =
    options.format === "gif"
      ? pipeline.gif({ delay, loop: 0, keepDuplicateFrames: true })
      : pipeline.webp({ delay, loop: 0, quality: 80 });
  return encoder.toBuffer();
}

const FORMAT_BY_EXTENSION: ReadonlyMap<string, OutputFormat> = new Map([
  [".png", "png"],
  [".jpg", "jpeg"],
  [".jpeg", "jpeg"],
  [".webp", "webp"],
]);

/** The output format a file name asks for; throws a friendly ImageInputError for anything else. */
export function outputFormatForPath(path: string): OutputFormat {
  const extension = extname(path).toLowerCase();
  const format = FORMAT_BY_EXTENSION.get(extension);
  if (format) return format;
  const problem = extension
    ? `I can't save images as "${extension}"`
    : `"${basename(path)}" has no file extension`;
  throw new ImageInputError(
    "unsupported_output_format",
    `${problem} — use a file name ending in .png, .jpg, .jpeg or .webp.`,
  );
}

/**
 * Writes `image` to `path`, choosing the format from its extension; atomically, so a full disk leaves no
 * truncated picture (it throws FileWriteError saying so).
 */
export async function encodeFile(
  image: RgbImage,
  path: string,
  options: { quality?: number } = {},
): Promise<void> {
  const format = outputFormatForPath(path);
  await writeFileAtomic(path, await encodeImage(image, { format, quality: options.quality }));
}
