import sharp from "sharp";
import type { RgbImage } from "../engine/index.js";
import { encodeAnimation } from "./encode.js";
import { toRgbImage } from "./raw.js";

/**
 * A painting's timelapse: frames collected during the run, thinned where little changes so the frames
 * are spent on the phase where the picture changes, then encoded as an animation (animated WebP: about
 * half the bytes of a GIF and faster to encode; GIF on request).
 */

export interface TimelapseFrame {
  /** An encoded still (JPEG or PNG). */
  readonly data: Uint8Array;
}

export interface TimelapseOptions {
  readonly format: "webp" | "gif";
  /** Frames in the animation, at most. */
  readonly frames: number;
  readonly frameMs: number;
  /** How long the finished painting stays on screen before the loop restarts. */
  readonly holdLastMs: number;
}

export const DEFAULT_TIMELAPSE: TimelapseOptions = {
  format: "webp",
  frames: 24,
  frameMs: 140,
  holdLastMs: 1800,
};

/** Frames kept while the run goes on; past this, the least telling frame is dropped as each arrives. */
const KEPT_FRAMES = 96;
/** Edge of the tiny thumbnail frames are compared by. */
const SIGNATURE_EDGE = 16;

interface Kept {
  readonly frame: TimelapseFrame;
  readonly signature: Uint8Array;
}

export class Timelapse {
  readonly #kept: Kept[] = [];
  /** Frames are measured one after another, so they stay in the order they were added. */
  #adding: Promise<void> = Promise.resolve();

  /** Adds a frame (measured in the background; a frame that cannot be read is skipped). */
  add(frame: TimelapseFrame): void {
    this.#adding = this.#adding.then(async () => {
      const signature = await signatureOf(frame.data).catch(() => undefined);
      if (!signature) return;
      this.#kept.push({ frame, signature });
      if (this.#kept.length > KEPT_FRAMES) dropLeastTelling(this.#kept);
    });
  }

  /** The frames an animation of `count` frames would use: first and last always, the rest where change is. */
  async select(count: number): Promise<TimelapseFrame[]> {
    await this.#adding;
    const kept = [...this.#kept];
    while (kept.length > Math.max(2, count)) dropLeastTelling(kept);
    return kept.map((k) => k.frame);
  }

  /** Undefined with fewer than two frames (nothing to animate). */
  async encode(options: TimelapseOptions = DEFAULT_TIMELAPSE): Promise<Buffer | undefined> {
    const frames = await this.select(options.frames);
    if (frames.length < 2) return undefined;
    const images: RgbImage[] = [];
    for (const frame of frames) images.push(await toRgbImage(sharp(frame.data).removeAlpha()));
    return encodeAnimation(images, {
      format: options.format,
      delayMs: options.frameMs,
      holdLastMs: options.holdLastMs,
    });
  }
}

/**
 * Removes the inner frame whose neighbours are most alike: dropping it loses the least motion. The first
 * (the photo) and the last (the newest) frames stay.
 */
function dropLeastTelling(kept: Kept[]): void {
  let best = -1;
  let bestJump = Number.POSITIVE_INFINITY;
  for (let i = 1; i < kept.length - 1; i++) {
    const jump = difference(kept[i - 1]!.signature, kept[i + 1]!.signature);
    if (jump < bestJump) {
      bestJump = jump;
      best = i;
    }
  }
  if (best > 0) kept.splice(best, 1);
}

async function signatureOf(data: Uint8Array): Promise<Uint8Array> {
  const tiny = await toRgbImage(
    sharp(data).removeAlpha().resize(SIGNATURE_EDGE, SIGNATURE_EDGE, { fit: "fill" }),
  );
  return tiny.data;
}

/** Mean absolute difference of two signatures, 0..255. */
function difference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
