import { describe, expect, it } from "vitest";
import { type CostModel, JobProgress } from "../src/jobs/job-progress.js";

/** Progress as a share of time: right when steps cost an overhead plus a part per pixel. */

const plan = [
  { width: 24, height: 18, steps: 40 },
  { width: 34, height: 25, steps: 40 },
  { width: 48, height: 36, steps: 40 },
];
/** What a step really costs here: mostly overhead, as at small sizes, and a set-up at each new scale. */
const truth: CostModel = { setupMs: 60, overheadMs: 20, msPerPixel: 0.004 };
const stepMs = (s: (typeof plan)[number]) => truth.overheadMs + truth.msPerPixel * s.width * s.height;
const totalMs = plan.reduce((t, s) => t + truth.setupMs + s.steps * stepMs(s), 0);

/** Runs the plan through a JobProgress; returns the largest gap between shown share and true share of time. */
function run(progress: JobProgress): { worstGap: number; backwards: boolean; fractions: number[] } {
  let elapsed = 0;
  let last = 0;
  let worstGap = 0;
  let backwards = false;
  const fractions: number[] = [];
  plan.forEach((scale, index) => {
    for (let step = 1; step <= scale.steps; step++) {
      elapsed += stepMs(scale) + (step === 1 ? truth.setupMs : 0);
      const { fraction } = progress.step(index, step, elapsed);
      backwards ||= fraction < last;
      last = fraction;
      fractions.push(fraction);
      if (elapsed > 0.1 * totalMs) worstGap = Math.max(worstGap, Math.abs(fraction - elapsed / totalMs));
    }
  });
  return { worstGap, backwards, fractions };
}

describe("JobProgress", () => {
  it("with a previous run's model, stays within 15% of the true share of time throughout, never backwards", () => {
    // The last run measured the same shape on a machine half as fast: rescaled to this run's speed.
    const prior = {
      setupMs: 2 * truth.setupMs,
      overheadMs: 2 * truth.overheadMs,
      msPerPixel: 2 * truth.msPerPixel,
    };
    const { worstGap, backwards, fractions } = run(new JobProgress(plan, prior));
    expect(backwards).toBe(false);
    expect(worstGap).toBeLessThan(0.05);
    expect(fractions.at(-1)).toBe(1);
  });

  it("without one, fits set-up, overhead and per-pixel cost from the run", () => {
    const progress = new JobProgress(plan);
    const { backwards } = run(progress);
    expect(backwards).toBe(false);
    const model = progress.fitted()!;
    expect(model.overheadMs).toBeCloseTo(truth.overheadMs, 0);
    expect(model.msPerPixel).toBeCloseTo(truth.msPerPixel, 4);
    expect(model.setupMs).toBeCloseTo(truth.setupMs, 0);
  });

  it("counting pixels alone would be far off at small sizes (the reason for the model)", () => {
    const pixelsOnly = plan.reduce((n, s) => n + s.steps * s.width * s.height, 0);
    const afterFirstScale = (plan[0]!.steps * plan[0]!.width * plan[0]!.height) / pixelsOnly;
    const trueShare = (truth.setupMs + plan[0]!.steps * stepMs(plan[0]!)) / totalMs;
    expect(trueShare - afterFirstScale).toBeGreaterThan(0.15);
  });
});
