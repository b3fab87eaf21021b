import type { ScalePlan } from "../engine/index.js";

/**
 * A running job's progress as a share of its time, not of its steps. A step costs a fixed overhead plus
 * a part proportional to its pixels (so at small sizes the overhead dominates, at large ones the pixels),
 * and each scale's first step pays a set-up on top. That cost model comes from the last run on this
 * engine, scaled to the pace measured in this one (or, for a first run, is fitted as the run goes), so
 * the share done and the time left track the clock. The share never goes backwards.
 */

export interface CostModel {
  /** Extra cost of a scale's first step (building the objective at a new size). */
  readonly setupMs: number;
  /** Fixed cost of one step, whatever its size. */
  readonly overheadMs: number;
  readonly msPerPixel: number;
}

interface ScaleTimes {
  /** The first step, set-up included. */
  firstMs?: number;
  /** The other steps. */
  count: number;
  totalMs: number;
}

interface Seen {
  readonly pixels: number;
  readonly firstMs: number | undefined;
  readonly meanMs: number;
  readonly count: number;
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
    const times = this.#times[scale]!;
    const stepMs = elapsedMs - this.#lastElapsedMs;
    if (scale === this.#lastScale) {
      times.count += 1;
      times.totalMs += stepMs;
    } else {
      times.firstMs = stepMs;
    }
    this.#lastScale = scale;
    this.#lastElapsedMs = elapsedMs;
    const etaMs = Math.max(0, this.#remainingMs(scale, step, elapsedMs));
    this.#fraction = Math.max(this.#fraction, Math.min(1, elapsedMs / Math.max(1, elapsedMs + etaMs)));
    return { fraction: this.#fraction, etaMs };
  }

  #remainingMs(scale: number, step: number, elapsedMs: number): number {
    const model = this.model();
    const current = this.#plan[scale]!;
    if (!model) {
      // Nothing measured yet (the first step of the run): the share of the plan's steps.
      const total = this.#plan.reduce((n, s) => n + s.steps, 0);
      const done = this.#plan.slice(0, scale).reduce((n, s) => n + s.steps, 0) + step;
      return elapsedMs * ((total - done) / Math.max(1, done));
    }
    // The rest of this scale at the pace measured in it; the later scales by the model.
    const times = this.#times[scale]!;
    const here = times.count > 0 ? times.totalMs / times.count : stepCost(model, current);
    let remaining = (current.steps - step) * here;
    for (const later of this.#plan.slice(scale + 1))
      remaining += model.setupMs + later.steps * stepCost(model, later);
    return remaining;
  }

  /**
   * The cost model for what is left: the previous run's (its shape holds for this engine) scaled to the
   * pace measured in this one; without one, this run's own fit once two scales were seen, or cost ∝
   * pixels from the first.
   */
  model(): CostModel | undefined {
    const seen = this.#seen();
    const last = seen.at(-1);
    if (!last) return undefined;
    const prior = this.#prior;
    if (prior) {
      const predicted = seen.reduce((t, s) => t + s.count * stepCost(prior, s), 0);
      const measured = seen.reduce((t, s) => t + s.count * s.meanMs, 0);
      const pace = predicted > 0 ? measured / predicted : 1;
      return {
        setupMs: prior.setupMs * pace,
        overheadMs: prior.overheadMs * pace,
        msPerPixel: prior.msPerPixel * pace,
      };
    }
    return this.fitted() ?? { setupMs: setupOf(seen), overheadMs: 0, msPerPixel: last.meanMs / last.pixels };
  }

  /** This run's own cost model (a line through its scales' mean step times), for the next run's prior. */
  fitted(): CostModel | undefined {
    const seen = this.#seen();
    const line = seen.length >= 2 ? fitLine(seen) : undefined;
    return line && { ...line, setupMs: setupOf(seen) };
  }

  #seen(): Seen[] {
    return this.#times
      .map((t, i) => ({
        pixels: pixels(this.#plan[i]!),
        firstMs: t.firstMs,
        meanMs: t.totalMs / t.count,
        count: t.count,
      }))
      .filter((s) => s.count > 0);
  }
}

function stepCost(
  model: CostModel,
  scale: { readonly width: number; readonly height: number } | Seen,
): number {
  return model.overheadMs + model.msPerPixel * ("pixels" in scale ? scale.pixels : pixels(scale));
}

/** What a scale's first step cost beyond an ordinary one, on average. */
function setupOf(seen: readonly Seen[]): number {
  const extras = seen.filter((s) => s.firstMs !== undefined).map((s) => Math.max(0, s.firstMs! - s.meanMs));
  return extras.length > 0 ? extras.reduce((a, b) => a + b, 0) / extras.length : 0;
}

/** Weighted least squares of mean step time on pixels; undefined when the fit makes no physical sense. */
function fitLine(points: readonly Seen[]): Omit<CostModel, "setupMs"> | undefined {
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

function pixels(scale: { readonly width: number; readonly height: number }): number {
  return scale.width * scale.height;
}
