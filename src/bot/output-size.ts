import { minimumOutputEdge } from "../engine/index.js";
import { UserError } from "./user-error.js";

/**
 * The size a photo of width×height is painted at when the member asked for `size` (its long edge): the
 * engine's deepest layer needs a short edge of some pixels, so a long, thin photo is painted larger if
 * the bot allows it, and refused up front (with what to do) if it does not — never failed in the queue.
 */
export function outputSizeFor(width: number, height: number, size: number, maxSize: number): number {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const minimum = minimumOutputEdge();
  if (Math.round((short * size) / long) >= minimum) return size;
  const needed = Math.ceil((minimum * long) / short);
  if (needed <= maxSize) return needed;
  const ratio = (long / short).toFixed(1).replace(/\.0$/, "");
  throw new UserError(
    "too_narrow",
    `Your photo is very long and thin (${ratio}:1): its short side would be under ${minimum} px, too little to paint. ` +
      `Crop it to at most ${Math.floor(maxSize / minimum)}:1${size < maxSize ? ` or ask for a larger size (up to ${maxSize})` : ""} and try again.`,
  );
}
