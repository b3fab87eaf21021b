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

  describe("when scales end by the stopping rule, well before their caps", () => {
    /** Balanced's ladder at 128 px: caps of 150 steps; the reference runs took 68–82, 41–59 and 42–63. */
    const capped = [
      { width: 64, height: 48, steps: 150 },
      { width: 91, height: 68, steps: 150 },
      { width: 128, height: 96, steps: 150 },
    ];
    const cost: CostModel = { setupMs: 40, overheadMs: 6, msPerPixel: 0.003 };
    const costOf = (s: (typeof capped)[number]) => cost.overheadMs + cost.msPerPixel * s.width * s.height;

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
