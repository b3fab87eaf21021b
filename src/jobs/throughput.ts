import { ExpectedSteps, type JobPlan } from "./expected-steps.js";

/**
 * Learns how fast the engine really is, so queue ETAs come from measured rates rather than guesses. Work
 * is counted in pixel-steps (one optimisation step over one pixel), which makes a 256 px fast job and a
 * 768 px hq job comparable. Two things are learnt from finished runs: how many steps each scale of a
 * ladder really takes (its stopping rule ends it well before its cap; expected-steps.ts), so a job's work
 * is its plan's scales × their expected steps, and how many milliseconds a pixel-step takes.
 */

/** Before anything ran: ~5 s per step on one megapixel (plain-JS CPU backend territory). */
const PRIOR_MS_PER_PIXEL_STEP = 5_000 / 1_000_000;
/** Weight of a new measurement in the running average. */
const SMOOTHING = 0.3;

/** What a finished run reports: its plan, the steps each scale took, and its engine time. */
export interface FinishedRun {
  readonly plan: JobPlan;
  readonly taken: readonly number[];
  readonly elapsedMs: number;
}

export class ThroughputMeter {
  #msPerPixelStep: number | undefined;
  readonly #steps = new ExpectedSteps();
  #pixelsPainted = 0;
  #busyMs = 0;

  /** Learns from a finished run: the steps its scales took and the time per pixel-step. */
  recordRun(run: FinishedRun): void {
    this.#steps.record(run.plan, run.taken);
    const pixelSteps = workOf(run.plan, run.taken);
    if (pixelSteps <= 0 || run.elapsedMs <= 0) return;
    const sample = run.elapsedMs / pixelSteps;
    this.#msPerPixelStep =
      this.#msPerPixelStep === undefined
        ? sample
        : this.#msPerPixelStep * (1 - SMOOTHING) + sample * SMOOTHING;
    const output = run.plan.scales.at(-1);
    this.#pixelsPainted += output ? output.width * output.height : 0;
    this.#busyMs += run.elapsedMs;
  }

  /** Whether the time estimates come from measurements yet. */
  get measured(): boolean {
    return this.#msPerPixelStep !== undefined;
  }

  /** The steps each scale of the plan is expected to take. */
  expectedSteps(plan: JobPlan): number[] {
    return this.#steps.expect(plan);
  }

  /** Pixel-steps a run of this plan is expected to take. */
  estimateWork(plan: JobPlan): number {
    return workOf(plan, this.#steps.expect(plan));
  }

  msFor(pixelSteps: number): number {
    return pixelSteps * (this.#msPerPixelStep ?? PRIOR_MS_PER_PIXEL_STEP);
  }

  /** Megapixels of finished paintings per minute of engine time; undefined before the first run. */
  megapixelsPerMinute(): number | undefined {
    return this.#busyMs > 0 ? (this.#pixelsPainted / 1e6) * (60_000 / this.#busyMs) : undefined;
  }
}

/** Pixel-steps of `steps[i]` steps at each scale i of the plan. */
export function workOf(plan: JobPlan, steps: readonly number[]): number {
  return plan.scales.reduce((sum, s, i) => sum + (steps[i] ?? 0) * s.width * s.height, 0);
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
