import type { ScalePlan, StylizeOptions } from "./types.js";

/** Progress bookkeeping for a run: elapsed time, ETA and when to emit preview frames. */

/** Elapsed time and an ETA from measured step times, scaled by each remaining scale's pixel count. */
export class RunClock {
  private msPerPixelStep: number | undefined;

  constructor(
    private readonly plan: readonly ScalePlan[],
    private readonly startedAt: number,
  ) {}

  record(scale: number, ms: number): void {
    const sample = ms / pixels(this.plan[scale]!);
    // Recent steps count most: the first steps of a run include warm-up.
    this.msPerPixelStep =
      this.msPerPixelStep === undefined ? sample : 0.7 * this.msPerPixelStep + 0.3 * sample;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** After `step` (1-based) of scale `scale`. */
  etaMs(scale: number, step: number): number {
    const current = this.plan[scale]!;
    let remaining = (current.steps - step) * pixels(current);
    for (const later of this.plan.slice(scale + 1)) remaining += later.steps * pixels(later);
    return remaining * (this.msPerPixelStep ?? 0);
  }
}

function pixels(scale: ScalePlan): number {
  return scale.width * scale.height;
}

/** Preview every N steps and/or every S seconds, whichever comes first; 0 turns a trigger off. */
export class PreviewCadence {
  private last: number;

  constructor(
    private readonly options: Pick<StylizeOptions, "previewEverySteps" | "previewEverySeconds">,
    startedAt: number,
  ) {
    this.last = startedAt;
  }

  due(overallStep: number): boolean {
    const { previewEverySteps: steps, previewEverySeconds: seconds } = this.options;
    const now = performance.now();
    const due =
      (steps > 0 && overallStep % steps === 0) || (seconds > 0 && now - this.last >= seconds * 1000);
    if (due) this.last = now;
    return due;
  }
}
