import { resolveSchedule, type ScalePlan } from "../engine/index.js";
import type { EngineOptions } from "./engine-protocol.js";

/**
 * How many steps each scale of a run will really take. A scale ends when its loss flattens (the engine's
 * stopping rule), so a plan's step counts are only caps: runs stop far earlier. What a scale takes
 * depends on where it sits in the ladder (the first one, from the photo, takes longest; the later ones
 * only refine) and on the stopping rule, hardly on the picture or its size, so it is learnt per kind of
 * run (the same schedule and ladder length) and per scale, from finished runs.
 */

/** What makes runs alike for their step counts; plain data, so it travels with a fleet job's outcome. */
export interface StepsKey {
  readonly optimizer: string;
  readonly tolerance: number;
  readonly stepsPerScale: number;
  /** Scales in the run's plan. */
  readonly scales: number;
  /** It starts from a finished picture (HD refining a result), not from the photo. */
  readonly refine: boolean;
}

/** A run's plan (each scale's size and step cap) and the kind of run it is. */
export interface JobPlan {
  readonly scales: readonly ScalePlan[];
  readonly key: StepsKey;
}

/**
 * Before any run: the steps L-BFGS took at the balanced tolerance (0.1% per step) on the reference weights
 * (blocks 1–3) over five photo × painting pairs at 128 and 256 px: the first scale 68–82 (mean 75), later
 * ones 41–63 (mean 50), at both sizes. At 0.4% (fast) the later scales took 24–28 and at 0.05% (hq) 63–71
 * and the first 114, close to √ of the tolerance ratio: the prior scales by that.
 */
const PRIOR_FIRST_STEPS = 75;
const PRIOR_LATER_STEPS = 50;
const PRIOR_TOLERANCE = 0.001;
/** Weight of a new run in the running mean once a few were seen (the first runs are averaged). */
const SMOOTHING = 0.3;

/** The kind of run a job's merged engine options (settings included) make, once its plan is known. */
export function stepsKey(options: EngineOptions, scales: number, refine: boolean): StepsKey {
  const schedule = resolveSchedule(options);
  return {
    optimizer: options.optimizer ?? "lbfgs",
    tolerance: schedule.tolerance,
    stepsPerScale: schedule.stepsPerScale,
    scales,
    refine,
  };
}

interface Learnt {
  /** Smoothed steps per scale, by index in the plan. */
  readonly steps: number[];
  runs: number;
}

export class ExpectedSteps {
  readonly #learnt = new Map<string, Learnt>();

  /** The steps each scale of `plan` is expected to take (at most its cap). */
  expect(plan: JobPlan): number[] {
    const learnt = this.#learnt.get(keyString(plan.key));
    return plan.scales.map((scale, index) =>
      clamp(learnt?.steps[index] ?? priorSteps(plan.key, index), 1, scale.steps),
    );
  }

  /** A finished run of `plan` took `taken[i]` steps at scale i. */
  record(plan: JobPlan, taken: readonly number[]): void {
    if (taken.length !== plan.scales.length || taken.some((n) => !(n > 0))) return;
    const key = keyString(plan.key);
    const learnt = this.#learnt.get(key) ?? { steps: [], runs: 0 };
    learnt.runs += 1;
    // A plain mean of the first runs (the prior has no standing once a run was seen), then a running one.
    const weight = Math.max(SMOOTHING, 1 / learnt.runs);
    taken.forEach((n, i) => {
      const before = learnt.steps[i];
      learnt.steps[i] = before === undefined ? n : before + weight * (n - before);
    });
    this.#learnt.set(key, learnt);
  }
}

/** What a run of this kind takes before any was seen: its cap without a stopping rule, else the measured prior. */
function priorSteps(key: StepsKey, index: number): number {
  if (key.tolerance <= 0) return key.stepsPerScale;
  const base = index === 0 && !key.refine ? PRIOR_FIRST_STEPS : PRIOR_LATER_STEPS;
  return Math.round(base * Math.sqrt(PRIOR_TOLERANCE / key.tolerance));
}

function keyString(key: StepsKey): string {
  return [key.optimizer, key.tolerance, key.stepsPerScale, key.scales, key.refine].join("/");
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
