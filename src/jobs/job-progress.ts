import type { ScalePlan } from "../engine/index.js";

/**
 * A running job's progress as a share of its time, not of its steps. A step costs a fixed overhead plus
 * a part proportional to its pixels (so at small sizes the overhead dominates, at large ones the pixels),
 * and each scale's first step pays a set-up on top. That cost model comes from the last run on this
 * engine, scaled to the pace measured in this one (or, for a first run, is fitted as the run goes), so
 * the share done and the time left track the clock.
 *
 * A scale ends when its loss flattens, so its step count in the plan is only a cap: the time left counts
 * the steps each scale is expected to take (learnt from earlier runs, expected-steps.ts). A scale that
 * runs past its expectation is expected to end soon, but never at once (the steps a scale of that length
 * still takes, given how much such lengths vary), and one that ends early moves the share forward in
 * small steps rather than one jump. The share never goes backwards.
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

/** How much a scale's step count varies around its expectation (sd/mean; 7–15% over five reference pairs). */
const STEPS_SPREAD = 0.15;
/** The shown share moves at most this much per step toward the estimate, so a re-plan is no jump. */
const MAX_SHARE_JUMP = 0.02;

export class JobProgress {
  readonly #plan: readonly ScalePlan[];
  readonly #prior: CostModel | undefined;
  /** Steps each scale is expected to take, at most its cap. */
  readonly #expected: readonly number[];
  readonly #times: ScaleTimes[];
  /** Steps each scale has run so far. */
  readonly #taken: number[];
  #fraction = 0;
  #lastElapsedMs = 0;
  #lastScale = -1;

  /** `expected`: the steps each scale is expected to take (default: its cap, as without a stopping rule). */
  constructor(plan: readonly ScalePlan[], prior?: CostModel, expected?: readonly number[]) {
    this.#plan = plan;
    this.#prior = prior;
    this.#expected = plan.map((s, i) => Math.min(s.steps, Math.max(1, expected?.[i] ?? s.steps)));
    this.#times = plan.map(() => ({ count: 0, totalMs: 0 }));
    this.#taken = plan.map(() => 0);
  }

  /** The run's work in pixel-steps as now expected: scales that ended as they ran, the others as expected. */
  get expectedWork(): number {
    return this.#plan.reduce((sum, s, i) => sum + this.#stepsOf(i) * pixels(s), 0);
  }

  /** Steps each scale has run so far. */
  get taken(): readonly number[] {
    return this.#taken;
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
    this.#taken[scale] = step;
    const etaMs = Math.max(0, this.#remainingMs(scale, step, elapsedMs));
    const share = Math.min(1, elapsedMs / Math.max(1, elapsedMs + etaMs));
    this.#fraction = Math.max(this.#fraction, Math.min(share, this.#fraction + MAX_SHARE_JUMP));
    return { fraction: this.#fraction, etaMs };
  }

  /** Steps scale `index` takes as now expected: as it ran when ended, else at least what it has run. */
  #stepsOf(index: number): number {
    const taken = this.#taken[index]!;
    if (index < this.#lastScale) return taken;
    if (index > this.#lastScale) return this.#expected[index]!;
    return taken + this.#stepsLeft(index, taken);
  }

  /**
   * Steps scale `index` still takes after `step`: its expectation less the steps run while well short of
   * it; near and past it, the mean of what is left of a length spread normally around it, which shrinks
   * as the scale runs on but never to nothing before the cap.
   */
  #stepsLeft(index: number, step: number): number {
    const cap = this.#plan[index]!.steps;
    const expected = this.#expected[index]!;
    if (step >= cap) return 0;
    if (expected >= cap) return cap - step;
    const sigma = STEPS_SPREAD * expected;
    const z = Math.min(30, (step - expected) / sigma);
    return Math.min(cap - step, sigma * (inverseMills(z) - z));
  }

  #remainingMs(scale: number, step: number, elapsedMs: number): number {
    const model = this.model();
    if (!model) {
      // Nothing measured yet (the first step of the run): the share of the expected steps.
      const total = this.#plan.reduce((n, _s, i) => n + this.#stepsOf(i), 0);
      const done = this.#taken.reduce((n, t) => n + t, 0);
      return elapsedMs * ((total - done) / Math.max(1, done));
    }
    // The rest of this scale at the pace measured in it; the later scales by the model.
    const current = this.#plan[scale]!;
    const times = this.#times[scale]!;
    const here = times.count > 0 ? times.totalMs / times.count : stepCost(model, current);
    let remaining = this.#stepsLeft(scale, step) * here;
    for (let later = scale + 1; later < this.#plan.length; later++)
      remaining += model.setupMs + this.#expected[later]! * stepCost(model, this.#plan[later]!);
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

/** φ(z) / (1 − Φ(z)) of the standard normal: with it, E[X − z | X > z] = inverseMills(z) − z. */
function inverseMills(z: number): number {
  const density = Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);
  return density / (0.5 * erfc(z / Math.SQRT2));
}

/** Numerical Recipes' erfcc: erfc(z) ≈ t·exp(−z² + Σ cₖ tᵏ), t = 1/(1 + z/2), relative error below 1.2e-7. */
const ERFC = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z + ERFC.reduceRight((sum, c) => c + t * sum, 0));
  return x >= 0 ? r : 2 - r;
}
