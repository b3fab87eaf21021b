import { describe, expect, it } from "vitest";
import { type CostModel, JobProgress, mergeCostModels } from "../src/jobs/job-progress.js";

/** Progress as a share of time, from step times measured by size. */

/** A step's cost as an overhead plus a part per pixel, as small CPU steps roughly behave. */
interface LinearCost {
  readonly setupMs: number;
  readonly overheadMs: number;
  readonly msPerPixel: number;
}
type Size = { readonly width: number; readonly height: number };
const linear = (cost: LinearCost, s: Size) => cost.overheadMs + cost.msPerPixel * s.width * s.height;
/** What a run of `sizes` would have measured under `cost`. */
const measuredAt = (cost: LinearCost, sizes: readonly Size[]): CostModel => ({
  setupMs: cost.setupMs,
  steps: sizes.map((s) => ({ pixels: s.width * s.height, ms: linear(cost, s) })),
});

const plan = [
  { width: 24, height: 18, steps: 40 },
  { width: 34, height: 25, steps: 40 },
  { width: 48, height: 36, steps: 40 },
];
/** What a step really costs here: mostly overhead, as at small sizes, and a set-up at each new scale. */
const truth: LinearCost = { setupMs: 60, overheadMs: 20, msPerPixel: 0.004 };
const stepMs = (s: Size) => linear(truth, s);
const totalMs = plan.reduce((t, s) => t + truth.setupMs + s.steps * stepMs(s), 0);

/** Runs the plan through a JobProgress; returns the largest gap between shown share and true share of time. */
function run(
  progress: JobProgress,
  costOf: (s: Size, index: number) => number = stepMs,
): { worstGap: number; backwards: boolean; fractions: number[] } {
  const totalMs = plan.reduce((t, s, i) => t + truth.setupMs + s.steps * costOf(s, i), 0);
  let elapsed = 0;
  let last = 0;
  let worstGap = 0;
  let backwards = false;
  const fractions: number[] = [];
  plan.forEach((scale, index) => {
    for (let step = 1; step <= scale.steps; step++) {
      elapsed += costOf(scale, index) + (step === 1 ? truth.setupMs : 0);
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
    // The last run measured the same sizes on a machine half as fast: rescaled to this run's speed.
    const prior = measuredAt({ setupMs: 120, overheadMs: 40, msPerPixel: 0.008 }, plan);
    const { worstGap, backwards, fractions } = run(new JobProgress(plan, prior));
    expect(backwards).toBe(false);
    expect(worstGap).toBeLessThan(0.05);
    expect(fractions.at(-1)).toBe(1);
  });

  it("without one, measures each size's step time and the set-up from the run", () => {
    const progress = new JobProgress(plan);
    const { backwards } = run(progress);
    expect(backwards).toBe(false);
    const model = progress.fitted()!;
    expect(model.setupMs).toBeCloseTo(truth.setupMs, 6);
    expect(model.steps).toEqual(
      plan.map((s) => ({ pixels: s.width * s.height, ms: expect.closeTo(stepMs(s), 6) as number })),
    );
  });

  it("from a run at other sizes, interpolates between them and extrapolates beyond the largest", () => {
    // Taught at half these sizes' pixels and at one of them.
    const taught = [
      ...plan.map((s) => ({ width: s.width / Math.SQRT2, height: s.height / Math.SQRT2 })),
      plan[1]!,
    ];
    const prior = measuredAt(truth, taught);
    const { worstGap, backwards } = run(new JobProgress(plan, prior));
    expect(backwards).toBe(false);
    expect(worstGap).toBeLessThan(0.05);
  });

  it("when the last scale costs more per pixel than the others, a model taught at those sizes is not fooled", () => {
    // The largest steps cost twice as much per pixel (as they did with onnxruntime's arena off); a line
    // through the smaller ones misses it.
    const costOf = (s: Size, index: number) => stepMs(s) * (index === plan.length - 1 ? 2 : 1);
    const prior: CostModel = {
      setupMs: truth.setupMs,
      steps: plan.map((s, i) => ({ pixels: s.width * s.height, ms: costOf(s, i) })),
    };
    const { worstGap } = run(new JobProgress(plan, prior), costOf);
    expect(worstGap).toBeLessThan(0.05);
  });

  it("a teaching run slowed by other work at one scale does not make the next run race ahead", () => {
    // Step times measured on the loopback double at 160 px (blocks 1–3, L-BFGS): the teaching run's middle
    // scale was slowed 2.5× by other work in the process, the next run's was not.
    const sizes = [
      { width: 80, height: 60, steps: 85 },
      { width: 113, height: 85, steps: 27 },
      { width: 160, height: 120, steps: 24 },
    ];
    const taught: CostModel = {
      setupMs: 150,
      steps: [21, 79, 151].map((ms, i) => ({ pixels: sizes[i]!.width * sizes[i]!.height, ms })),
    };
    const ran = [16, 32, 157];
    const total = sizes.reduce((t, s, i) => t + 100 + s.steps * ran[i]!, 0);
    const progress = new JobProgress(sizes, taught);
    let elapsed = 0;
    let worstAhead = 0;
    sizes.forEach((scale, index) => {
      for (let step = 1; step <= scale.steps; step++) {
        elapsed += ran[index]! + (step === 1 ? 100 : 0);
        const { fraction } = progress.step(index, step, elapsed);
        worstAhead = Math.max(worstAhead, fraction - elapsed / total);
      }
    });
    expect(worstAhead).toBeLessThan(0.1);
  });

  it("a new run's sizes replace the model's nearby ones and keep the others", () => {
    const older: CostModel = {
      setupMs: 10,
      steps: [
        { pixels: 1000, ms: 5 },
        { pixels: 4000, ms: 20 },
      ],
    };
    const newer: CostModel = {
      setupMs: 12,
      steps: [
        { pixels: 4100, ms: 30 },
        { pixels: 9000, ms: 60 },
      ],
    };
    expect(mergeCostModels(older, newer)).toEqual({
      setupMs: 12,
      steps: [
        { pixels: 1000, ms: 5 },
        { pixels: 4100, ms: 30 },
        { pixels: 9000, ms: 60 },
      ],
    });
    expect(mergeCostModels(undefined, newer)).toBe(newer);
    expect(mergeCostModels(older, undefined)).toBe(older);
  });

  it("counting pixels alone would be far off at small sizes (the reason for the model)", () => {
    const pixelsOnly = plan.reduce((n, s) => n + s.steps * s.width * s.height, 0);
    const afterFirstScale = (plan[0]!.steps * plan[0]!.width * plan[0]!.height) / pixelsOnly;
    const trueShare = (truth.setupMs + plan[0]!.steps * stepMs(plan[0]!)) / totalMs;
    expect(trueShare - afterFirstScale).toBeGreaterThan(0.15);
  });

  describe("when scales end by the stopping rule, well before their caps", () => {
    /** Balanced's ladder at 128 px: caps of 150 steps; the reference runs took 68–82, 41–59 and 42–63. */
    const capped = [
      { width: 64, height: 48, steps: 150 },
      { width: 91, height: 68, steps: 150 },
      { width: 128, height: 96, steps: 150 },
    ];
    const linearCost: LinearCost = { setupMs: 40, overheadMs: 6, msPerPixel: 0.003 };
    const cost = measuredAt(linearCost, capped);
    const costOf = (s: Size) => linear(linearCost, s);

    /** Runs `taken[i]` steps at each scale; the largest gap between shown and true share of time, etc. */
    function stopEarly(progress: JobProgress, taken: readonly number[]) {
      const total = capped.reduce((t, s, i) => t + cost.setupMs + taken[i]! * costOf(s), 0);
      let elapsed = 0;
      let last = 0;
      let worstGap = 0;
      let worstJump = 0;
      let backwards = false;
      const etas: number[] = [];
      capped.forEach((scale, index) => {
        for (let step = 1; step <= taken[index]!; step++) {
          elapsed += costOf(scale) + (step === 1 ? cost.setupMs : 0);
          const { fraction, etaMs } = progress.step(index, step, elapsed);
          backwards ||= fraction < last;
          worstJump = Math.max(worstJump, fraction - last);
          last = fraction;
          etas.push(etaMs);
          worstGap = Math.max(worstGap, Math.abs(fraction - elapsed / total));
        }
      });
      return { worstGap, worstJump, backwards, etas, last };
    }

    it("with the steps earlier runs took, stays within 15% of the true share of time; by the caps it cannot", () => {
      const taken = [70, 45, 52];
      const learnt = [75, 48, 50];
      const expected = stopEarly(new JobProgress(capped, cost, learnt), taken);
      expect(expected.backwards).toBe(false);
      expect(expected.worstGap).toBeLessThan(0.15);
      expect(expected.worstJump).toBeLessThanOrEqual(0.02 + 1e-9);
      // The same run planned by its caps: far behind the clock until the last scale's end.
      const byCaps = stopEarly(new JobProgress(capped, cost), taken);
      expect(byCaps.worstGap).toBeGreaterThan(0.4);
    });

    it("a scale that runs past its expectation is never 'about to end' at once: the time left shrinks smoothly", () => {
      const taken = [75, 48, 90]; // the last scale takes 80% longer than learnt
      const { backwards, etas, worstGap } = stopEarly(new JobProgress(capped, cost, [75, 48, 50]), taken);
      expect(backwards).toBe(false);
      expect(Math.min(...etas)).toBeGreaterThan(0);
      // Past its expectation the time left stays a few steps' worth, never a jump to nothing.
      const lastScale = etas.slice(75 + 48);
      for (let i = 1; i < lastScale.length; i++)
        expect(lastScale[i - 1]! - lastScale[i]!).toBeLessThan(3 * costOf(capped[2]!));
      expect(worstGap).toBeLessThan(0.25);
    });

    it("counts the work as expected, then as it ran", () => {
      const progress = new JobProgress(capped, cost, [75, 48, 50]);
      const pixels = capped.map((s) => s.width * s.height);
      expect(progress.expectedWork).toBe(75 * pixels[0]! + 48 * pixels[1]! + 50 * pixels[2]!);
      stopEarly(progress, [60, 48, 50]);
      expect(progress.taken).toEqual([60, 48, 50]);
    });
  });
});
