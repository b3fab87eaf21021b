import type { EngineOptions } from "../engine-protocol.js";
import type { EncodedImage, JobEvent } from "../events.js";
import type { JobPlan } from "../expected-steps.js";
import type { JobSettings, StopReason } from "../job.js";

/**
 * What travels between bot processes and workers. A BullMQ job carries only small data: images are Redis
 * keys (blobs with an expiry), so neither the queue nor the event channel ever holds a large picture.
 */

/** A BullMQ job's data: everything a worker needs to paint, with no access to the bot's store. */
export interface FleetJobData {
  readonly userId: string;
  readonly reservationId: number;
  readonly settings: JobSettings;
  /** Blob ids (see FleetKeys.blob) of the photo and the paintings. */
  readonly content: string;
  readonly styles: readonly { readonly blob: string; readonly weight: number }[];
  /** Blob id of a picture to start from instead of the photo (the result an HD job refines). */
  readonly init?: string;
  /** The bot's engine options (preview cadence; tests shorten runs) merged with the style's own. */
  readonly options: EngineOptions;
  readonly timeoutMs: number;
  /** Pixels of the painting. */
  readonly outputPixels: number;
  /** The plan the bot expects the engine to make, for the worker's first estimate (absent from older bots). */
  readonly plan?: JobPlan;
  /** Its fair-order round, which is also its BullMQ priority. */
  readonly round: number;
}

/** How a run ended, as the worker returns it (BullMQ keeps it as the job's return value). */
export type FleetOutcome =
  | {
      readonly state: "done";
      readonly result: ImageRef;
      readonly elapsedMs: number;
      readonly outputPixels: number;
      /** The engine's plan and the steps its scales took, for the bot's throughput meter. */
      readonly run?: { readonly plan: JobPlan; readonly taken: readonly number[] };
      readonly worker: string;
    }
  | { readonly state: "failed" | "cancelled"; readonly reason: StopReason; readonly detail?: string };

/** An image as a blob id plus what the reply needs to show it. */
export interface ImageRef extends Omit<EncodedImage, "data"> {
  readonly blob: string;
}

/**
 * Events on the pub/sub channel: the running part of a job's life (`started`, `progress`, `finishing`)
 * and the timelapse that follows a result. Endings are not sent here: the bot reads them from the job
 * itself (BullMQ's completed/failed/removed), so a bot process that was down when a job ended still
 * learns how it ended.
 */
export type WireEvent =
  | Extract<JobEvent, { type: "started" | "finishing" }>
  | (Omit<Extract<JobEvent, { type: "progress" }>, "preview"> & { readonly preview?: ImageRef })
  | { readonly type: "timelapse"; readonly animation: ImageRef };

export interface WireMessage {
  readonly jobId: string;
  readonly event: WireEvent;
}

/** The failure BullMQ records when a job's worker went away once more than allowed. */
export const STALLED_REASON = /stalled more than allowable limit/i;

export const HEARTBEAT_MS = 2000;
/** A worker whose heartbeat is older than this is counted as gone. */
export const WORKER_ALIVE_MS = 3 * HEARTBEAT_MS;
/** Finished jobs are counted for jobs-per-minute over this window. */
export const THROUGHPUT_WINDOW_MS = 10 * 60 * 1000;

/** What a live worker says about itself in its heartbeat. */
export interface WorkerBeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly slots: number;
  readonly busy: number;
  readonly gpu?: number;
  readonly done: number;
}
