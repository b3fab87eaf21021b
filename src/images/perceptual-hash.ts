import type { RgbImage } from "../engine/index.js";
import { sharpFromRgb } from "./raw.js";

/**
 * A 64-bit difference hash (dHash): the image shrunk to 9×8 grey pixels, one bit per pair of horizontal
 * neighbours (is the left one brighter?). Re-encoding, resizing and mild colour changes flip few bits, so
 * near-duplicates are within a small Hamming distance while different pictures differ in about half.
 */
export async function differenceHash(image: RgbImage): Promise<string> {
  const grey = await sharpFromRgb(image)
    .greyscale()
    .resize(9, 8, { fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer();
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      bits = (bits << 1n) | ((grey[y * 9 + x] ?? 0) > (grey[y * 9 + x + 1] ?? 0) ? 1n : 0n);
    }
  }
  return bits.toString(16).padStart(16, "0");
}

/** Bits that differ between two hashes from differenceHash. */
export function hammingDistance(a: string, b: string): number {
  let diff = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  while (diff > 0n) {
    count += Number(diff & 1n);
    diff >>= 1n;
  }
  return count;
}
