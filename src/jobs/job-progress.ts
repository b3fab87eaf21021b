import type { ScalePlan } from "../engine/index.js";

/**
 * A running job's progress as a share of its time, not of its steps: a step costs a fixed overhead plus
 * a part proportional to its pixels, so a step at the full size costs several coarse ones, and at small
 * sizes the overhead dominates. The cost model is fitted to the steps measured so far (once two scales
 * were seen; before that the last job's model, rescaled to this one's speed, or pixels alone), so the
 * share done and the time left track the clock. The share never goes backwards.
 */

export interface CostModel {
  /** Fixed cost of one step, whatever its size. */
  readonly overheadMs: number;
  readonly msPerPixel: number;
}

interface ScaleTimes {
  /** Steps measured (a scale's first step is left out: it pays for set-up). */
  count: number;
  totalMs: number;
}

export class JobProgress {
  readonly #plan: readonly ScalePlan[];
  readonly #prior: CostModel | undefined;
  readonly #times: ScaleTimes[];
  #fraction = 0;
  #lastElapsedMs = 0;
  #lastScale = -1;

  constructor(plan: readonly ScalePlan[], prior?: CostModel) {
    this.#plan = plan;
    this.#prior = prior;
    this.#times = plan.map(() => ({ count: 0, totalMs: 0 }));
  }

  /** The total work of the plan in pixel-steps (an upper bound when scales may stop early). */
  get totalWork(): number {
    return this.#plan.reduce((sum, s) => sum + s.steps * pixels(s), 0);
  }

  get fraction(): number {
    return this.#fraction;
  }

  /** After step `step` (1-based) of scale `scale`, `elapsedMs` into the run. */
  step(scale: number, step: number, elapsedMs: number): { fraction: number; etaMs: number } {
    if (scale === this.#lastScale) {
      const times = this.#times[scale]!;
      times.count += 1;
      times.totalMs += elapsedMs - this.#lastElapsedMs;
    }
    this.#lastScale = scale;
    this.#lastElapsedMs = elapsedMs;
    const model = this.model();
    let etaMs = 0;
    if (model) {
      const cost = (s: ScalePlan) => model.overheadMs + model.msPerPixel * pixels(s);
      etaMs = (this.#plan[scale]!.steps - step) * cost(this.#plan[scale]!);
      for (const later of this.#plan.slice(scale + 1)) etaMs += later.steps * cost(later);
    } else {
      // Nothing measured yet (the first step of the run): share of the plan's steps.
      const total = this.#plan.reduce((n, s) => n + s.steps, 0);
      const done = this.#plan.slice(0, scale).reduce((n, s) => n + s.steps, 0) + step;
      etaMs = elapsedMs * ((total - done) / Math.max(1, done));
    }
    etaMs = Math.max(0, etaMs);
    this.#fraction = Math.max(this.#fraction, Math.min(1, elapsedMs / Math.max(1, elapsedMs + etaMs)));
    return { fraction: this.#fraction, etaMs };
  }

  /**
   * The cost model from this run's measurements: a line through the scales' mean step times once two
   * scales have some; with one, the prior's shape rescaled to this run's speed (or cost ∝ pixels).
   */
  model(): CostModel | undefined {
    const seen = this.#times
      .map((t, i) => ({ pixels: pixels(this.#plan[i]!), meanMs: t.totalMs / t.count, count: t.count }))
      .filter((s) => s.count > 0);
    if (seen.length >= 2) {
      const fitted = fitLine(seen);
      if (fitted) return fitted;
    }
    const current = seen.at(-1);
    if (!current) return undefined;
    if (this.#prior) {
      const predicted = this.#prior.overheadMs + this.#prior.msPerPixel * current.pixels;
      const speed = predicted > 0 ? current.meanMs / predicted : 1;
      return { overheadMs: this.#prior.overheadMs * speed, msPerPixel: this.#prior.msPerPixel * speed };
    }
    return { overheadMs: 0, msPerPixel: current.meanMs / current.pixels };
  }
}

/** Weighted least squares of mean step time on pixels; undefined when the fit makes no physical sense. */
function fitLine(
  points: readonly { pixels: number; meanMs: number; count: number }[],
): CostModel | undefined {
  let w = 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    w += p.count;
    sx += p.count * p.pixels;
    sy += p.count * p.meanMs;
  }
  const mx = sx / w;
  const my = sy / w;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += p.count * (p.pixels - mx) ** 2;
    sxy += p.count * (p.pixels - mx) * (p.meanMs - my);
  }
  if (sxx === 0) return undefined;
  // Negative costs are noise on a shared machine: clamp to the nearest sensible model.
  const msPerPixel = Math.max(0, sxy / sxx);
  const overheadMs = Math.max(0, my - msPerPixel * mx);
  return msPerPixel === 0 && overheadMs === 0 ? undefined : { overheadMs, msPerPixel };
}

function pixels(scale: ScalePlan): number {
  return scale.width * scale.height;
}
