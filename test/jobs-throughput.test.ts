import { describe, expect, it } from "vitest";
import { QUALITY_PRESETS } from "../src/engine/index.js";
import { ExpectedSteps, type JobPlan } from "../src/jobs/expected-steps.js";
import { planJob } from "../src/jobs/job-plan.js";
import { estimateWaitMs, ThroughputMeter, workOf } from "../src/jobs/throughput.js";

const balanced = (
  size: number,
  photo = { width: 400, height: 300 },
  init?: { width: number; height: number },
) => planJob({ settings: { quality: "balanced", size }, content: photo, init, engineOptions: {} });

/** A run of `plan` whose scales stop at `share` of their cap (the stopping rule), ±2 steps of noise. */
function stoppedAt(plan: JobPlan, share: number, noise: number): number[] {
  return plan.scales.map((s, i) => Math.round(share * s.steps) + ((noise + i) % 5) - 2);
}

describe("ThroughputMeter", () => {
  it("learns ms per pixel-step from the pixel-steps runs really did", () => {
    const meter = new ThroughputMeter();
    expect(meter.measured).toBe(false);
    expect(meter.megapixelsPerMinute()).toBeUndefined();
    const plan = balanced(128);
    const taken = [70, 45, 50];
    const work = workOf(plan, taken); // 70 steps at 64×48, 45 at 91×68, 50 at 128×96
    expect(work).toBe(70 * 64 * 48 + 45 * 91 * 68 + 50 * 128 * 96);
    meter.recordRun({ plan, taken, elapsedMs: 2000 });
    expect(meter.measured).toBe(true);
    expect(meter.msFor(work)).toBeCloseTo(2000);
    expect(meter.megapixelsPerMinute()).toBeCloseTo((128 * 96 * 30) / 1e6);
    // A slower run moves the estimate part of the way, not all of it.
    meter.recordRun({ plan, taken, elapsedMs: 4000 });
    expect(meter.msFor(work)).toBeGreaterThan(2000);
    expect(meter.msFor(work)).toBeLessThan(4000);
  });

  it("after runs whose scales stopped at ~40% of their cap, estimates a new job's real work, not its caps", () => {
    const meter = new ThroughputMeter();
    for (let run = 0; run < 4; run++) {
      const plan = balanced(256 + 32 * run);
      meter.recordRun({ plan, taken: stoppedAt(plan, 0.4, run), elapsedMs: 10_000 });
    }
    // Another photo, another size: the same ladder, so the same steps per scale.
    const next = balanced(512, { width: 600, height: 800 });
    const real = workOf(next, stoppedAt(next, 0.4, 7));
    const caps = workOf(
      next,
      next.scales.map((s) => s.steps),
    );
    const estimate = meter.estimateWork(next);
    expect(Math.abs(estimate / real - 1)).toBeLessThan(0.05);
    expect(caps / real).toBeGreaterThan(2); // what counting the caps would have said
  });

  it("estimates a waiting job's start from the work ahead shared over the slots", () => {
    const meter = new ThroughputMeter();
    const plan = balanced(128);
    const taken = [70, 45, 50];
    meter.recordRun({ plan, taken, elapsedMs: workOf(plan, taken) }); // 1 ms per pixel-step
    const wait = estimateWaitMs(meter, {
      runningRemaining: [500, 1500],
      ahead: [1000],
      own: 400,
      concurrency: 2,
    });
    expect(wait.startsInMs).toBeCloseTo(1500);
    expect(wait.finishesInMs).toBeCloseTo(1900);
  });
});

describe("ExpectedSteps", () => {
  it("before any run: the measured prior under the stopping rule, the caps without one", () => {
    const steps = new ExpectedSteps();
    // Balanced (0.1% per step): the first scale, from the photo, ~75 steps; later ones ~50 (cap 150).
    expect(steps.expect(balanced(512))).toEqual([75, 50, 50]);
    // Fast's looser rule (0.4%) stops sooner, and its first scale is capped at 30.
    const fast = planJob({
      settings: { quality: "fast", size: 512 },
      content: { width: 400, height: 300 },
      engineOptions: {},
    });
    expect(steps.expect(fast)).toEqual([30, 25]);
    // A step count given alone runs in full.
    const pinned = planJob({
      settings: { quality: "balanced", size: 512 },
      content: { width: 400, height: 300 },
      engineOptions: { stepsPerScale: 30 },
    });
    expect(steps.expect(pinned)).toEqual([30, 30, 30]);
  });

  it("learns each scale's steps per kind of run, the first runs averaged, later ones smoothed", () => {
    const steps = new ExpectedSteps();
    const plan = balanced(256);
    steps.record(plan, [60, 40, 44]);
    expect(steps.expect(plan)).toEqual([60, 40, 44]);
    steps.record(plan, [80, 40, 44]);
    expect(steps.expect(plan)[0]).toBeCloseTo(70);
    // A refinement of a finished picture is another kind of run: still the prior.
    const hd = balanced(512, { width: 400, height: 300 }, { width: 256, height: 192 });
    expect(hd.key.refine).toBe(true);
    expect(steps.expect(hd)).toEqual([50, 50]);
    // Partial or empty records (a run that ended without a step) teach nothing.
    steps.record(plan, [10, 0, 0]);
    expect(steps.expect(plan)[0]).toBeCloseTo(70);
  });
});

describe("planJob", () => {
  it("is the engine's plan for the job's settings: HD's starting picture drops the scales it covers", () => {
    const photo = { width: 1600, height: 1200 };
    const edges = (plan: JobPlan) => plan.scales.map((s) => Math.max(s.width, s.height));
    expect(edges(balanced(512, photo))).toEqual([256, 362, 512]);
    expect(balanced(512, photo).scales[0]!.steps).toBe(QUALITY_PRESETS.balanced.stepsPerScale);
    // Refining a 512 px result at 1024: only the scales above 512 are painted.
    expect(edges(balanced(1024, photo, { width: 512, height: 384 }))).toEqual([724, 1024]);
  });
});
