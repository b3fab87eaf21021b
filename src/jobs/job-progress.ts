import type { ScalePlan } from "../engine/index.js";

/**
 * A running job's progress measured in work, not steps: a step at the full size costs many times one at a
 * coarse scale, so the share of pixel-steps done is what tracks time. The fraction never goes backwards
 * (a scale that ends early counts as done), and the time left comes from the measured cost of a
 * pixel-step, smoothed so the estimate does not jump about from step to step.
 */

/** Weight of the newest measurement in the running average of ms per pixel-step. */
const SMOOTHING = 0.25;

export class JobProgress {
  readonly #plan: readonly ScalePlan[];
  readonly #total: number;
  #done = 0;
  #fraction = 0;
  #scale = -1;
  #lastElapsedMs = 0;
  #msPerPixelStep: number | undefined;

  constructor(plan: readonly ScalePlan[]) {
    this.#plan = plan;
    this.#total = plan.reduce((sum, s) => sum + s.steps * pixels(s), 0);
  }

  /** The total work of the plan (an upper bound when scales may stop early). */
  get totalWork(): number {
    return this.#total;
  }

  get fraction(): number {
    return this.#fraction;
  }

  /** After step `step` (1-based) of scale `scale`, `elapsedMs` into the run. */
  step(scale: number, step: number, elapsedMs: number): { fraction: number; etaMs: number } {
    const before = this.#plan.slice(0, scale).reduce((sum, s) => sum + s.steps * pixels(s), 0);
    const done = before + step * pixels(this.#plan[scale]!);
    // The first step of a scale pays for set-up (and L-BFGS's first evaluation): not a fair rate sample.
    if (scale === this.#scale && done > this.#done) {
      const sample = (elapsedMs - this.#lastElapsedMs) / (done - this.#done);
      this.#msPerPixelStep =
        this.#msPerPixelStep === undefined
          ? sample
          : this.#msPerPixelStep * (1 - SMOOTHING) + sample * SMOOTHING;
    }
    this.#scale = scale;
    this.#done = done;
    this.#lastElapsedMs = elapsedMs;
    this.#fraction = Math.max(this.#fraction, Math.min(1, done / this.#total));
    const perPixelStep = this.#msPerPixelStep ?? elapsedMs / Math.max(1, done);
    return { fraction: this.#fraction, etaMs: Math.max(0, (this.#total - done) * perPixelStep) };
  }
}

function pixels(scale: ScalePlan): number {
  return scale.width * scale.height;
}
