import type { Reservation } from "./admission.js";
import type { EngineOptions } from "./engine-protocol.js";
import type { JobEvent } from "./events.js";
import type { JobOwner, JobRecord, JobRequest, StopReason } from "./job.js";

/**
 * The job layer's one interface: take jobs, queue them fairly, run them on engine processes, and tell the
 * caller what happens to each through typed events. Nothing here knows Discord; the caller words the
 * events. Two implementations share it: in this process (local-runner.ts) and, for a fleet, over Redis.
 */

/** What the caller supplies when a job starts: the paintings for its style (encoded image files). */
export interface PreparedJob {
  readonly styles: readonly { readonly image: Uint8Array; readonly weight: number }[];
  /** Engine options beyond the job's settings (tests shorten runs this way). */
  readonly options?: EngineOptions;
}

/** Turns a job's settings into what the engine needs; throws JobStopError("style_missing") and the like. */
export type PrepareJob = (job: JobRecord) => Promise<PreparedJob>;

/** Ends a job without a result; `message` is safe to show the member. */
export class JobStopError extends Error {
  override readonly name = "JobStopError";
  constructor(
    readonly reason: StopReason,
    message: string,
  ) {
    super(message);
  }
}

export interface Estimate {
  readonly startsInMs: number;
  /** Engine time of the job itself. */
  readonly runMs: number;
  /** False while the figures are a prior, before any job ran. */
  readonly measured: boolean;
}

export type CancelOutcome = "cancelled" | "not_owner" | "not_active" | "unknown";

export interface QueueStatus {
  /** The member's jobs: position 0 = running. */
  readonly jobs: readonly {
    readonly job: JobRecord;
    readonly position: number;
    readonly fraction?: number;
  }[];
  readonly waiting: number;
  readonly running: number;
  readonly engineSlots: number;
  /** Output megapixels painted per minute of engine time; undefined before the first job. */
  readonly megapixelsPerMinute: number | undefined;
  /** With workers on Redis: how many are alive and how many jobs they finished per minute lately. */
  readonly fleet?: { readonly workers: number; readonly jobsPerMinute: number };
}

export type JobListener = (jobId: string, event: JobEvent) => void;

export interface JobRunner {
  /**
   * Holds a place for a job under the member's limit (lowered to `memberLimit`, e.g. a server's own),
   * and the global cap, before the caller does any work; throws JobRefusedError.
   */
  reserve(owner: JobOwner, memberLimit?: number): Promise<Reservation>;
  /** Gives back a place the caller will not use. */
  release(reservation: Reservation): void;
  /** Stores and queues the job on the reservation (which the job then holds until it ends). */
  submit(reservation: Reservation, request: JobRequest): Promise<JobRecord>;
  cancel(jobId: string, userId: string): Promise<CancelOutcome>;
  /**
   * How long a job like this would wait and paint now: the engine's plan for its settings and photo (a
   * starting picture, as HD's, skips the scales it covers) × the steps each scale is expected to take,
   * at the measured pace (a prior before any job ran).
   */
  estimate(request: Pick<JobRequest, "settings" | "content" | "initImage">): Promise<Estimate>;
  get(jobId: string): Promise<JobRecord | undefined>;
  status(userId: string): Promise<QueueStatus>;
  /** Every job event, for the caller to route to whatever shows the job. */
  onEvent(listener: JobListener): () => void;
  /**
   * Jobs that need the caller's attention after a restart: unfinished ones (which start() runs again)
   * and ended ones whose member was not told. Set up their listeners, then call start().
   */
  pending(): Promise<JobRecord[]>;
  /** Takes up pending jobs (re-sending their final event if they ended unreported). */
  start(): Promise<void>;
  /** The member was told how the job ended; it will not be re-sent after a restart. */
  markReported(jobId: string): Promise<void>;
  /** A stored file (photo, result, timelapse) by id. */
  blob(id: string): Promise<Buffer>;
  /**
   * Shutdown: take no more jobs, give running ones `graceMs` to finish, then hand the rest back to the
   * queue (they run again after a restart; an `interrupted` event says so).
   */
  close(options?: { graceMs?: number }): Promise<void>;
}
