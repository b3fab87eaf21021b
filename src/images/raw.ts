import sharp, { type Sharp } from "sharp";
import type { RgbImage } from "../engine/index.js";

/** Throws if `image` is not a well-formed RgbImage; a malformed one is a programming error, not user input. */
export function assertRgbImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`RgbImage needs positive integer dimensions, got ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `RgbImage data has ${data.length} bytes, but ${width}×${height}×3 = ${width * height * 3} were expected`,
    );
  }
}

/** A sharp pipeline reading the raw pixels of `image`. */
export function sharpFromRgb(image: RgbImage): Sharp {
  assertRgbImage(image);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** Runs `pipeline` to raw 8-bit pixels; the pipeline must already end in 3 channels. */
export async function toRgbImage(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    throw new Error(`Expected 3 channels from the image pipeline, got ${info.channels}`);
  }
  // A plain Uint8Array view, so consumers never depend on Buffer-only behaviour.
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}
