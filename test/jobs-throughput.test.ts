import { describe, expect, it } from "vitest";
import { estimateWaitMs, ThroughputMeter } from "../src/jobs/throughput.js";

describe("ThroughputMeter", () => {
  it("learns ms per pixel-step from runs and pixel-steps per output pixel from plans", () => {
    const meter = new ThroughputMeter();
    expect(meter.measured).toBe(false);
    expect(meter.megapixelsPerMinute()).toBeUndefined();
    meter.recordPlan("fast", 12.5); // e.g. 10 steps at 50² plus 10 at 100², for a 100² output
    expect(meter.estimateWork("fast", 200 * 200)).toBeCloseTo(12.5 * 40_000);
    meter.recordRun(125_000, 2000, 10_000); // 2 s for 125 000 pixel-steps, a 0.01 MP painting
    expect(meter.measured).toBe(true);
    expect(meter.msFor(125_000)).toBeCloseTo(2000);
    expect(meter.megapixelsPerMinute()).toBeCloseTo(0.3);
    // A slower run moves the estimate part of the way, not all of it.
    meter.recordRun(125_000, 4000, 10_000);
    expect(meter.msFor(125_000)).toBeGreaterThan(2000);
    expect(meter.msFor(125_000)).toBeLessThan(4000);
  });

  it("estimates a waiting job's start from the work ahead shared over the slots", () => {
    const meter = new ThroughputMeter();
    meter.recordRun(1000, 1000, 100); // 1 ms per pixel-step
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
