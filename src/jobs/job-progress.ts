import type { ScalePlan } from "../engine/index.js";

/**
 * A running job's progress as a share of its time, not of its steps. What a step costs depends on its size
 * in a way no simple law fits on a shared CPU (a fixed overhead dominates small steps; large ones may cost
 * more per pixel), so it is measured: the step times of earlier runs at each size they ran, interpolated
 * between sizes, scaled to the pace measured in this run (or, for a first run, this run's own scales as
 * they go). Each scale's first step pays a set-up on top. So the share done and the time left track the
 * clock.
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
  /** Mean time of a step at each size measured, by pixels ascending. */
  readonly steps: readonly StepCost[];
}

export interface StepCost {
  readonly pixels: number;
  readonly ms: number;
}

/** Sizes a model remembers; a newer measurement at a size within SAME_SIZE of an older one replaces it. */
const MAX_SIZES = 16;
const SAME_SIZE = 0.05;

/** A model of the newest run's measurements, with the older model's sizes it did not run kept. */
export function mergeCostModels(
  older: CostModel | undefined,
  newer: CostModel | undefined,
): CostModel | undefined {
  if (!older || !newer) return newer ?? older;
  const kept = older.steps.filter(
    (old) => !newer.steps.some((s) => Math.abs(s.pixels - old.pixels) <= SAME_SIZE * s.pixels),
  );
  const steps = [...newer.steps, ...kept].sort((a, b) => a.pixels - b.pixels);
  // Too many sizes: drop the older model's, largest first.
  while (steps.length > MAX_SIZES) steps.splice(steps.indexOf(kept.pop()!), 1);
  return { setupMs: newer.setupMs, steps };
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
/** A scale's pace counts once it ran this many steps (its first few are noise). */
const PACE_MIN_STEPS = 4;
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
   * The cost model for what is left: the earlier runs' step times scaled to this run's pace, taken as the
   * slowest of its scales so far relative to them. A scale's pace is thrown off by bursts of other work
   * (in this run, or in the run that taught the model); betting on the slowest keeps the share from racing
   * ahead and then stalling, at the price of a lag it makes up at MAX_SHARE_JUMP a step. Without earlier
   * runs, this run's own scales as measured.
   */
  model(): CostModel | undefined {
    const seen = this.#seen();
    if (seen.length === 0) return undefined;
    const prior = this.#prior;
    if (!prior) return this.fitted();
    const settled = seen.filter((s) => s.count >= PACE_MIN_STEPS);
    const pace = Math.max(...(settled.length > 0 ? settled : seen).map((s) => s.meanMs / stepCost(prior, s)));
    return {
      setupMs: prior.setupMs * pace,
      steps: prior.steps.map((s) => ({ pixels: s.pixels, ms: s.ms * pace })),
    };
  }

  /** This run's own cost model (its scales' mean step times), for the next run's prior. */
  fitted(): CostModel | undefined {
    const seen = this.#seen();
    if (seen.length === 0) return undefined;
    return { setupMs: setupOf(seen), steps: seen.map((s) => ({ pixels: s.pixels, ms: s.meanMs })) };
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

/**
 * A step's time at `size` by the model: between two measured sizes, on the line through them; beyond the
 * largest, on the line through the two largest (at least the largest's time; in proportion to pixels when
 * only one size was measured); below the smallest, in proportion to pixels.
 */
function stepCost(
  model: CostModel,
  size: { readonly width: number; readonly height: number } | Seen,
): number {
  const at = "pixels" in size ? size.pixels : pixels(size);
  const { steps } = model;
  const above = steps.findIndex((s) => s.pixels >= at);
  if (above === 0) return (steps[0]!.ms * at) / steps[0]!.pixels;
  const [a, b] = above > 0 ? [steps[above - 1]!, steps[above]!] : [steps.at(-2), steps.at(-1)!];
  if (!a || a.pixels === b.pixels) return (b.ms * at) / b.pixels;
  const line = a.ms + ((b.ms - a.ms) * (at - a.pixels)) / (b.pixels - a.pixels);
  return above > 0 ? line : Math.max(line, b.ms);
}

/** What a scale's first step cost beyond an ordinary one, on average. */
function setupOf(seen: readonly Seen[]): number {
  const extras = seen.filter((s) => s.firstMs !== undefined).map((s) => Math.max(0, s.firstMs! - s.meanMs));
  return extras.length > 0 ? extras.reduce((a, b) => a + b, 0) / extras.length : 0;
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
