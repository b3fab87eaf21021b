import type { RgbImage } from "../engine/index.js";
import { assertRgbImage, sharpFromRgb, toRgbImage } from "./raw.js";

/** Resamples `image` to exactly width×height (Lanczos; aspect ratio is the caller's business, see fitWithin). */
export async function resizeImage(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  assertRgbImage(image);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resizeImage needs positive integer dimensions, got ${width}×${height}`);
  }
  if (width === image.width && height === image.height) return image;
  return toRgbImage(sharpFromRgb(image).resize(width, height, { fit: "fill", kernel: "lanczos3" }));
}
