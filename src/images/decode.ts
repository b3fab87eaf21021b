import sharp, { type Metadata } from "sharp";
import type { RgbImage } from "../engine/index.js";
import { ACCEPTED_FORMATS_TEXT, ImageInputError } from "./errors.js";
import { fitWithin } from "./geometry.js";
import { toRgbImage } from "./raw.js";

export type ImageFormat = "jpeg" | "png" | "webp" | "avif" | "tiff" | "gif";

export interface ImageLimits {
  /** Most pixels in one frame (width × height); refuses decompression bombs before any pixel is decoded. */
  readonly maxPixels: number;
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Shortest side accepted, in pixels. */
  readonly minEdge: number;
  /** Largest long-side ÷ short-side ratio accepted. */
  readonly maxAspectRatio: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = Object.freeze({
  maxPixels: 40_000_000,
  maxBytes: 25 * 1024 * 1024,
  minEdge: 16,
  maxAspectRatio: 8,
});

export interface DecodeOptions extends Partial<ImageLimits> {
  /** Downscale (Lanczos) while decoding so the long edge is at most this; never enlarges. */
  readonly maxEdge?: number;
}

export interface DecodedImage {
  readonly image: RgbImage;
  readonly format: ImageFormat;
  /** Size of the file's (first) frame as seen after EXIF orientation, before any downscaling. */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  /** The file holds several frames or pages; only the first was decoded. */
  readonly animated: boolean;
}

const NOT_AN_IMAGE_MESSAGE = `That file isn't an image I can read — send a ${ACCEPTED_FORMATS_TEXT}.`;
const CORRUPT_MESSAGE =
  "That image looks damaged or incomplete (maybe the upload was cut off) — try saving it again and resending it.";

/** Names for formats sharp can read but we refuse (vector, document and camera formats). */
const REFUSED_FORMAT_NAMES: Record<string, string> = {
  svg: "SVG",
  pdf: "PDF",
  heif: "HEIC",
  jp2: "JPEG 2000",
  jxl: "JPEG XL",
};

/**
 * Turns untrusted bytes into an 8-bit sRGB image. The type is sniffed from the bytes, never a name; every
 * size limit is checked from the header before pixels are decoded. Bad input always rejects with an
 * ImageInputError whose message can be shown to the sender.
 */
export async function decodeImage(input: Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const limits = resolveLimits(options);
  if (input.length === 0) throw new ImageInputError("not_an_image", NOT_AN_IMAGE_MESSAGE);
  if (input.length > limits.maxBytes) {
    throw new ImageInputError(
      "file_too_large",
      `That file is ${megabytes(input.length)} MB — the most I can take is ${megabytes(limits.maxBytes)} MB. ` +
        "Send a smaller or more compressed version.",
    );
  }

  const metadata = await readHeader(input);
  const format = acceptedFormat(metadata);
  // As the viewer sees it (EXIF rotation applied); for animations and multi-page files, one frame.
  const { width, height } = metadata.autoOrient;
  checkDimensions(width, height, limits);

  const pipeline = sharp(input, {
    autoOrient: true,
    // "error" still rejects truncated files but tolerates the harmless warnings many camera JPEGs carry.
    failOn: "error",
    // Belt and braces: libvips enforces the same limit from the header in case metadata and decoder disagree.
    limitInputPixels: limits.maxPixels,
    pages: 1,
  });
  if (options.maxEdge !== undefined) {
    const size = fitWithin(width, height, options.maxEdge);
    if (size.width !== width || size.height !== height) {
      // Resizing inside the pipeline lets JPEG/WebP shrink-on-load keep memory near the output size.
      pipeline.resize(size.width, size.height, { fit: "fill", kernel: "lanczos3" });
    }
  }
  // Alpha onto white; CMYK, greyscale, 16-bit and ICC-profiled input all end as 8-bit sRGB.
  pipeline.flatten({ background: "#ffffff" }).toColourspace("srgb");

  let image: RgbImage;
  try {
    image = await toRgbImage(pipeline);
  } catch (error) {
    throw fromSharpError(error, limits);
  }
  return {
    image,
    format,
    sourceWidth: width,
    sourceHeight: height,
    animated: (metadata.pages ?? 1) > 1,
  };
}

function resolveLimits(options: DecodeOptions): ImageLimits {
  const limits: ImageLimits = {
    maxPixels: options.maxPixels ?? DEFAULT_IMAGE_LIMITS.maxPixels,
    maxBytes: options.maxBytes ?? DEFAULT_IMAGE_LIMITS.maxBytes,
    minEdge: options.minEdge ?? DEFAULT_IMAGE_LIMITS.minEdge,
    maxAspectRatio: options.maxAspectRatio ?? DEFAULT_IMAGE_LIMITS.maxAspectRatio,
  };
  const entries = Object.entries({ ...limits, maxEdge: options.maxEdge ?? 1 });
  for (const [name, value] of entries) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`decodeImage option ${name} must be a positive number, got ${value}`);
    }
  }
  return limits;
}

/** Reads only the header: no pixel is decoded, so even a bomb is cheap to inspect here. */
async function readHeader(input: Uint8Array): Promise<Metadata> {
  try {
    return await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw fromSharpError(error);
  }
}

function acceptedFormat(metadata: Metadata): ImageFormat {
  switch (metadata.format) {
    case "jpeg":
    case "png":
    case "webp":
    case "tiff":
    case "gif":
      return metadata.format;
    case "heif":
      // HEIF is a container: AV1 inside is AVIF; HEVC inside is an iPhone HEIC, which sharp cannot decode.
      if (metadata.compression === "av1") return "avif";
      break;
  }
  const name = REFUSED_FORMAT_NAMES[metadata.format] ?? metadata.format.toUpperCase();
  throw new ImageInputError(
    "unsupported_format",
    `I can't use ${name} files — send a ${ACCEPTED_FORMATS_TEXT} instead.`,
  );
}

function checkDimensions(width: number, height: number, limits: ImageLimits): void {
  if (width * height > limits.maxPixels) {
    throw new ImageInputError(
      "too_many_pixels",
      `That image is ${width}×${height} (${megapixels(width * height)} megapixels) — the most I can take is ` +
        `${megapixels(limits.maxPixels)} megapixels. Send a smaller version.`,
    );
  }
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio > limits.maxAspectRatio) {
    throw new ImageInputError(
      "bad_aspect_ratio",
      `That image is ${width}×${height}, too long and thin to paint (the most I can do is ` +
        `${limits.maxAspectRatio}:1). Crop it closer to square and try again.`,
    );
  }
  if (Math.min(width, height) < limits.minEdge) {
    throw new ImageInputError(
      "too_small",
      `That image is only ${width}×${height} pixels — it needs to be at least ${limits.minEdge} pixels on each side.`,
    );
  }
}

/** sharp reports everything as a plain Error; sort its messages into our codes. */
function fromSharpError(error: unknown, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): ImageInputError {
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format|buffer is empty/i.test(message)) {
    return new ImageInputError("not_an_image", NOT_AN_IMAGE_MESSAGE, { cause: error });
  }
  if (/pixel limit/i.test(message)) {
    return new ImageInputError(
      "too_many_pixels",
      `That image is bigger than ${megapixels(limits.maxPixels)} megapixels, the most I can take. Send a smaller version.`,
      { cause: error },
    );
  }
  return new ImageInputError("corrupt", CORRUPT_MESSAGE, { cause: error });
}

/**
 * One decimal at most (25, 30.2), rounded up so an amount just over a limit never prints as equal to it
 * ("25.1 MB — the most I can take is 25 MB", not "25 MB … 25 MB").
 */
function oneDecimalUp(value: number): string {
  // The epsilon keeps float noise (30.2 * 10 = 302.00000000000006) from rounding an exact value up.
  return String(Math.ceil(value * 10 - 1e-9) / 10);
}

function megabytes(bytes: number): string {
  return oneDecimalUp(bytes / (1024 * 1024));
}

function megapixels(pixels: number): string {
  return oneDecimalUp(pixels / 1_000_000);
}
