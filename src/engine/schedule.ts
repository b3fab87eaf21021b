import type { Quality, ScalePlan } from "./types.js";

/**
 * Coarse-to-fine schedule. Each scale's long edge is √2 times the previous one and the last is the
 * requested size; optimising first at low resolution sets the large structures cheaply (a step at half
 * the size costs a quarter), and finer scales only refine them (crowsonkb/style-transfer-pytorch).
 */

export interface Schedule {
  /** At most this many scales (fewer when the ladder would drop below MIN_SCALE_EDGE). */
  readonly scales: number;
  /** At most this many steps per scale. */
  readonly stepsPerScale: number;
  /** A scale ends early once its loss falls by less than this fraction per step (see Plateau); 0: never. */
  readonly tolerance: number;
}

/**
 * Chosen with `npm run bench:quality` (README, Performance): L-BFGS, which on one fixed objective
 * reaches a given loss several times sooner than Adam, and scales that end when their loss flattens
 * rather than after a fixed count. Few scales: on that objective the coarse scales' pictures, carried up,
 * help less than the steps they cost (at 256 px, 3 scales reached the old defaults' loss 5.3× sooner
 * than those, 4 scales 2.2×, 2 scales 4.2×). A tolerance of 0.2% per step stopped short of the old
 * defaults' loss on one pair of three, so balanced uses 0.1%.
 * - fast: 2 scales (1/√2 and 1 of the size) of at most 30 steps, a loose tolerance;
 * - balanced: 3 scales (½, 1/√2, 1), what members get;
 * - hq: 4 scales, a tight tolerance and room for long final scales, for GPUs.
 */
export const QUALITY_PRESETS: Readonly<Record<Quality, Schedule>> = {
  fast: { scales: 2, stepsPerScale: 30, tolerance: 0.004 },
  balanced: { scales: 3, stepsPerScale: 150, tolerance: 0.001 },
  hq: { scales: 4, stepsPerScale: 400, tolerance: 0.0005 },
};

/** Steps over which Plateau measures a scale's progress. */
export const PLATEAU_WINDOW = 5;

/**
 * The stopping rule of a scale: it has reached a plateau once, over the last PLATEAU_WINDOW steps, its
 * loss fell by less than `tolerance` of itself per step on average (or rose). Fed one loss per step.
 */
export class Plateau {
  private readonly recent: number[] = [];

  constructor(private readonly tolerance: number) {}

  reached(loss: number): boolean {
    this.recent.push(loss);
    if (this.tolerance <= 0 || this.recent.length <= PLATEAU_WINDOW) return false;
    const before = this.recent.shift()!;
    return before - loss < this.tolerance * PLATEAU_WINDOW * before;
  }
}

/** The ladder stops before a scale's long edge would fall below this, or below half the size for small outputs. */
export const MIN_SCALE_EDGE = 64;

/** Width and height with the given long edge and the aspect ratio of width×height (each at least 1). */
export function fitLongEdge(
  width: number,
  height: number,
  longEdge: number,
): { width: number; height: number } {
  const ratio = longEdge / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * ratio)), height: Math.max(1, Math.round(height * ratio)) };
}

/**
 * The scales for a content image of the given dimensions, ending at exactly `size` on the long edge.
 * Scales whose short edge is under `minShortEdge` (what the network's deepest layer needs) are left out,
 * and so are those no larger than `startEdge`, the long edge of a finished picture the run starts from
 * (HD refining a result): that picture already holds what they would paint. The last scale always stays.
 */
export function planScales(
  content: { width: number; height: number },
  size: number,
  schedule: Pick<Schedule, "scales" | "stepsPerScale">,
  minShortEdge = 1,
  startEdge = 0,
): ScalePlan[] {
  const floor = Math.min(MIN_SCALE_EDGE, Math.round(size / 2));
  const plan: ScalePlan[] = [];
  for (let i = 0; i < schedule.scales; i++) {
    const edge = Math.round(size * 0.5 ** (i / 2));
    const scale = { ...fitLongEdge(content.width, content.height, edge), steps: schedule.stepsPerScale };
    if (edge < floor || Math.min(scale.width, scale.height) < minShortEdge) break;
    if (i > 0 && edge <= startEdge) break;
    plan.unshift(scale);
  }
  if (plan.length === 0) {
    const { width, height } = fitLongEdge(content.width, content.height, size);
    throw new RangeError(
      `a ${width}×${height} output is too small for the chosen layers: its short edge must be at least ${minShortEdge} px`,
    );
  }
  return plan;
}
