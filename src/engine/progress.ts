import type { ScalePlan, StylizeOptions } from "./types.js";

/** Progress bookkeeping for a run: elapsed time, ETA and when to emit preview frames. */

/**
 * Elapsed time, and an ETA from the measured time per pixel-step at the current scale, applied to the
 * pixel count of every remaining step. The first step of a scale is left out of the rate once there are
 * others: it pays for warm-up (and L-BFGS's initial evaluation).
 */
export class RunClock {
  private scale = -1;
  private first = 0;
  private rest = 0;
  private restCount = 0;

  constructor(
    private readonly plan: readonly ScalePlan[],
    private readonly startedAt: number,
  ) {}

  record(scale: number, ms: number): void {
    const perPixel = ms / pixels(this.plan[scale]!);
    if (scale !== this.scale) {
      this.scale = scale;
      this.first = perPixel;
      this.rest = 0;
      this.restCount = 0;
    } else {
      this.rest += perPixel;
      this.restCount += 1;
    }
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** After `step` (1-based) of scale `scale`. */
  etaMs(scale: number, step: number): number {
    const current = this.plan[scale]!;
    let remaining = (current.steps - step) * pixels(current);
    for (const later of this.plan.slice(scale + 1)) remaining += later.steps * pixels(later);
    const msPerPixelStep = this.restCount > 0 ? this.rest / this.restCount : this.first;
    return remaining * msPerPixelStep;
  }
}

function pixels(scale: ScalePlan): number {
  return scale.width * scale.height;
}

/**
 * Preview every N steps and/or every S seconds, whichever comes first; 0 turns a trigger off. With the
 * seconds trigger on, the first step gives a preview too, so one is shown right after the start.
 */
export class PreviewCadence {
  private last: number | undefined;

  constructor(
    private readonly options: Pick<StylizeOptions, "previewEverySteps" | "previewEverySeconds">,
    startedAt: number,
  ) {
    this.last = options.previewEverySeconds > 0 ? undefined : startedAt;
  }

  due(overallStep: number): boolean {
    const { previewEverySteps: steps, previewEverySeconds: seconds } = this.options;
    const now = performance.now();
    const due =
      (steps > 0 && overallStep % steps === 0) ||
      (seconds > 0 && (this.last === undefined || now - this.last >= seconds * 1000));
    if (due) this.last = now;
    return due;
  }
}
