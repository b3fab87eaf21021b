import { describe, expect, it, vi } from "vitest";
import { PreviewCadence, RunClock } from "../src/engine/progress.js";

describe("progress", () => {
  it("estimates the remaining time from the current scale's rate, scaled by pixels", () => {
    const plan = [
      { width: 10, height: 10, steps: 3 },
      { width: 20, height: 20, steps: 2 },
    ];
    const clock = new RunClock(plan, 0);
    clock.record(0, 50); // warm-up: ignored once other steps are measured
    expect(clock.etaMs(0, 1)).toBeCloseTo(2 * 50 + 2 * 4 * 50, 6);
    clock.record(0, 10);
    // 1 step left at 100 px plus 2 steps at 400 px, at 0.1 ms per pixel-step.
    expect(clock.etaMs(0, 2)).toBeCloseTo(10 + 2 * 40, 6);
    clock.record(1, 80);
    clock.record(1, 40);
    expect(clock.etaMs(1, 2)).toBe(0);
  });

  it("previews every N steps and every S seconds, whichever comes first; by time, the first step at once", () => {
    vi.useFakeTimers();
    try {
      const bySteps = new PreviewCadence({ previewEverySteps: 3, previewEverySeconds: 0 }, performance.now());
      expect([1, 2, 3, 4, 5, 6].map((s) => bySteps.due(s))).toEqual([false, false, true, false, false, true]);

      const byTime = new PreviewCadence({ previewEverySteps: 0, previewEverySeconds: 2 }, performance.now());
      expect(byTime.due(1)).toBe(true); // the first step's, at once
      vi.advanceTimersByTime(1500);
      expect(byTime.due(2)).toBe(false);
      vi.advanceTimersByTime(1000);
      expect(byTime.due(3)).toBe(true);
      expect(byTime.due(4)).toBe(false); // the timer restarted at the last preview
      vi.advanceTimersByTime(2000);
      expect(byTime.due(5)).toBe(true);

      const off = new PreviewCadence({ previewEverySteps: 0, previewEverySeconds: 0 }, performance.now());
      vi.advanceTimersByTime(1e6);
      expect(off.due(10)).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
