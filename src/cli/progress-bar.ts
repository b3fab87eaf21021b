import { SingleBar } from "cli-progress";
import { formatDuration } from "../duration.js";
import type { StylizeEvent } from "../engine/index.js";

type Start = Extract<StylizeEvent, { type: "start" }>;
type Step = Extract<StylizeEvent, { type: "step" }>;

/**
 * The terminal progress bar (on stderr). It hides the cursor while drawn, so `stop()` must run on every
 * way out, Ctrl-C included: it ends the bar's line and shows the cursor again.
 */
export class ProgressBar {
  readonly #bar: SingleBar;
  #scales = 0;
  #active = false;

  constructor() {
    this.#bar = new SingleBar({
      format: "{bar} {percentage}% | step {value}/{total} | scale {scale} | loss {loss} | ETA {eta_s}",
      hideCursor: true,
      // Off a terminal (CI, a log file) a plain line every 5 s instead of redraws.
      noTTYOutput: true,
      notTTYSchedule: 5000,
    });
  }

  start(event: Start): void {
    this.#scales = event.plan.length;
    this.#bar.start(event.totalSteps, 0, { scale: "-", loss: "-", eta_s: "-" });
    this.#active = true;
  }

  step(event: Step): void {
    this.#bar.update(event.overallStep, {
      scale: `${event.scale + 1}/${this.#scales}`,
      loss: event.losses.total.toExponential(3),
      eta_s: formatDuration(event.etaMs),
    });
  }

  /** Ends the bar's line and shows the cursor; does nothing when the bar is not drawn. Synchronous. */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#bar.stop();
  }
}
