import type { Quality, ScalePlan } from "./types.js";

/**
 * Coarse-to-fine schedule. Each scale's long edge is √2 times the previous one and the last is the
 * requested size; optimising first at low resolution sets the large structures cheaply (a step at half
 * the size costs a quarter), and finer scales only refine them (crowsonkb/style-transfer-pytorch).
 */

export interface Schedule {
  /** At most this many scales (fewer when the ladder would drop below MIN_SCALE_EDGE). */
  readonly scales: number;
  readonly stepsPerScale: number;
}

/**
 * The work per step grows with the pixel count, so a run costs about stepsPerScale × 2 steps at full
 * size whatever the number of scales; more scales mostly buy better large-scale structure.
 * - fast: 3 scales (½, 1/√2, 1 of the size) × 30 steps ≈ 53 full-size steps: on the reference weights
 *   (256 px) it ends within 8% of balanced's loss at under half its cost, so it is the CPU preset.
 * - balanced: 5 scales (from ¼ of the size: 128 px at 512) × 60 steps ≈ 116 full-size steps.
 * - hq: 6 scales × 150 steps ≈ 295 full-size steps, for GPUs.
 */
export const QUALITY_PRESETS: Readonly<Record<Quality, Schedule>> = {
  fast: { scales: 3, stepsPerScale: 30 },
  balanced: { scales: 5, stepsPerScale: 60 },
  hq: { scales: 6, stepsPerScale: 150 },
};

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
 * Scales whose short edge is under `minShortEdge` (what the network's deepest layer needs) are left out.
 */
export function planScales(
  content: { width: number; height: number },
  size: number,
  schedule: Schedule,
  minShortEdge = 1,
): ScalePlan[] {
  const floor = Math.min(MIN_SCALE_EDGE, Math.round(size / 2));
  const plan: ScalePlan[] = [];
  for (let i = 0; i < schedule.scales; i++) {
    const edge = Math.round(size * 0.5 ** (i / 2));
    const scale = { ...fitLongEdge(content.width, content.height, edge), steps: schedule.stepsPerScale };
    if (edge < floor || Math.min(scale.width, scale.height) < minShortEdge) break;
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
