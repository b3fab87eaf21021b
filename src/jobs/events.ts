import type { StopReason } from "./job.js";

/**
 * What a job runner tells its caller about one job, in order: `waiting` (repeated while the estimate
 * moves), `started`, `progress` (repeated), `finishing`, then `done` and `timelapse`, or `stopped` — or
 * `interrupted` at a shutdown, after which the job starts over from `waiting` when the runner is back.
 * Images travel encoded, so a subscriber never pays for pixels it does not show.
 */

export interface EncodedImage {
  readonly data: Buffer;
  readonly format: "png" | "jpeg" | "webp" | "gif";
  readonly width: number;
  readonly height: number;
}

export type JobEvent =
  | {
      readonly type: "waiting";
      /** 1-based place among waiting jobs. */
      readonly position: number;
      readonly startsInMs: number;
      readonly finishesInMs: number;
      /** False while the estimate is a prior, before any job ran on this engine. */
      readonly measured: boolean;
    }
  | {
      readonly type: "started";
      /** 1 for the first run; 2 when a restart interrupted the first. */
      readonly attempt: number;
      /** How long the job waited in the queue. */
      readonly waitedMs: number;
      /** The engine time it is expected to take. */
      readonly expectedMs: number;
      readonly measured: boolean;
    }
  | {
      readonly type: "progress";
      /** Share of the job's work done, 0..1, by pixel-steps (never goes backwards). */
      readonly fraction: number;
      readonly etaMs: number;
      /** 0-based scale and 1-based step within it, for logs and the curious. */
      readonly scale: number;
      readonly scales: number;
      readonly step: number;
      /** The painting so far, at the result's size. */
      readonly preview?: EncodedImage;
    }
  | { readonly type: "finishing" }
  | {
      readonly type: "done";
      /** The result, stored before this event. */
      readonly image: EncodedImage;
      /** Engine time. */
      readonly elapsedMs: number;
      /** From the job's creation (what the member waited, queue included) to now. */
      readonly totalMs: number;
    }
  | {
      /** Follows `done` when a timelapse could be made. */
      readonly type: "timelapse";
      readonly animation: EncodedImage;
    }
  | {
      /** The runner is shutting down: the job goes back to the queue and runs again after the restart. */
      readonly type: "interrupted";
    }
  | {
      readonly type: "stopped";
      readonly reason: StopReason;
      /** Member-safe detail (e.g. "the painting engine ran out of memory"). */
      readonly detail?: string;
    };

export type JobEventType = JobEvent["type"];
