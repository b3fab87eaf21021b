import { describe, expect, it } from "vitest";
import { estimateWaitMs, planPixelSteps, ThroughputMeter } from "../src/queue/throughput.js";

describe("ThroughputMeter", () => {
  it("learns ms per pixel-step from runs and pixel-steps per output pixel from plans", () => {
    const meter = new ThroughputMeter();
    expect(meter.measured).toBe(false);
    expect(meter.stepsPerSecond()).toBeUndefined();
    const plan = [
      { width: 50, height: 50, steps: 10 },
      { width: 100, height: 100, steps: 10 },
    ];
    expect(planPixelSteps(plan)).toBe(10 * 2500 + 10 * 10_000);
    meter.recordPlan("fast", plan, 100 * 100);
    expect(meter.estimateWork("fast", 200 * 200)).toBeCloseTo(12.5 * 40_000);
    meter.recordRun(planPixelSteps(plan), 20, 2000); // 2 s for 125 000 pixel-steps
    expect(meter.measured).toBe(true);
    expect(meter.msFor(125_000)).toBeCloseTo(2000);
    expect(meter.stepsPerSecond()).toBeCloseTo(10);
    // A slower run moves the estimate part of the way, not all of it.
    meter.recordRun(125_000, 20, 4000);
    expect(meter.msFor(125_000)).toBeGreaterThan(2000);
    expect(meter.msFor(125_000)).toBeLessThan(4000);
  });

  it("estimates a waiting job's start from the work ahead shared over the slots", () => {
    const meter = new ThroughputMeter();
    meter.recordRun(1000, 10, 1000); // 1 ms per pixel-step
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
