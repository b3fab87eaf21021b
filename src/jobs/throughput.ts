import type { Quality } from "../engine/index.js";

/**
 * Learns how fast the engine really is, so queue ETAs come from measured step rates rather than guesses.
 * Work is counted in pixel-steps (one optimisation step over one pixel), which makes a 256 px fast job and
 * a 768 px hq job comparable. Two things are learnt: how many pixel-steps a quality preset needs per
 * output pixel (from each run's plan) and how many milliseconds a pixel-step takes (from finished runs).
 */

/** Before anything ran: a guess of ~200 steps per output pixel (multi-scale runs do fewer at full size). */
const PRIOR_STEPS_PER_PIXEL = 200;
/** Before anything ran: ~5 s per step on one megapixel (plain-JS CPU backend territory). */
const PRIOR_MS_PER_PIXEL_STEP = 5_000 / 1_000_000;
/** Weight of a new measurement in the running average. */
const SMOOTHING = 0.3;

export class ThroughputMeter {
  #msPerPixelStep: number | undefined;
  readonly #stepsPerPixel = new Map<Quality, number>();
  #pixelsPainted = 0;
  #busyMs = 0;

  /** A run of this quality planned `stepsPerPixel` pixel-steps per output pixel. */
  recordPlan(quality: Quality, stepsPerPixel: number): void {
    if (stepsPerPixel > 0) this.#stepsPerPixel.set(quality, stepsPerPixel);
  }

  /** A run did `pixelSteps` of work in `elapsedMs`, painting an output of `outputPixels`. */
  recordRun(pixelSteps: number, elapsedMs: number, outputPixels: number): void {
    if (pixelSteps <= 0 || elapsedMs <= 0) return;
    const sample = elapsedMs / pixelSteps;
    this.#msPerPixelStep =
      this.#msPerPixelStep === undefined
        ? sample
        : this.#msPerPixelStep * (1 - SMOOTHING) + sample * SMOOTHING;
    this.#pixelsPainted += outputPixels;
    this.#busyMs += elapsedMs;
  }

  /** Whether the estimates come from measurements yet. */
  get measured(): boolean {
    return this.#msPerPixelStep !== undefined;
  }

  /** Pixel-steps a job of this quality and output size will take. */
  estimateWork(quality: Quality, outputPixels: number): number {
    return (this.#stepsPerPixel.get(quality) ?? PRIOR_STEPS_PER_PIXEL) * outputPixels;
  }

  msFor(pixelSteps: number): number {
    return pixelSteps * (this.#msPerPixelStep ?? PRIOR_MS_PER_PIXEL_STEP);
  }

  /** Megapixels of finished paintings per minute of engine time; undefined before the first run. */
  megapixelsPerMinute(): number | undefined {
    return this.#busyMs > 0 ? (this.#pixelsPainted / 1e6) * (60_000 / this.#busyMs) : undefined;
  }
}

/**
 * When a waiting job should finish: the work still left in running jobs plus the work queued ahead of it,
 * shared over the engine slots, then its own work.
 */
export function estimateWaitMs(
  meter: ThroughputMeter,
  options: {
    runningRemaining: readonly number[];
    ahead: readonly number[];
    own: number;
    concurrency: number;
  },
): { startsInMs: number; finishesInMs: number } {
  const backlog = [...options.runningRemaining, ...options.ahead].reduce((a, b) => a + b, 0);
  const startsInMs = meter.msFor(backlog) / Math.max(1, options.concurrency);
  return { startsInMs, finishesInMs: startsInMs + meter.msFor(options.own) };
}
