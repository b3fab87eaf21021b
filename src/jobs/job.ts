import { randomBytes, randomInt } from "node:crypto";
import type { Quality } from "../engine/index.js";
import type { JobState, StoredJob } from "../store/index.js";

/**
 * A job as the job layer knows it: who asked, which photo (a stored file), which style and settings. It
 * carries no Discord types; `replyTo` is the caller's own note of where to answer (opaque here, stored as
 * JSON so a restart can answer in the same place).
 */

/** What a member asked for; everything needed to run (or re-run) a job besides the photo. */
export interface JobSettings {
  /** The style's key, resolved by the caller's `prepare` when the job starts; UPLOADED_STYLE for a painting of their own. */
  readonly presetId: string;
  /** 0..1; 0.5 is the preset's own balance of style and content. */
  readonly strength: number;
  readonly quality: Quality;
  /** Long edge of the output in pixels. */
  readonly size: number;
  readonly preserveColors: boolean;
  readonly seed: number;
}

/** The style key of a job that brought its own painting (stored with the job as `styleBlob`). */
export const UPLOADED_STYLE = "upload";

export interface JobOwner {
  readonly userId: string;
  /** The server the job was asked in; absent in direct messages. */
  readonly guildId?: string;
}

/** What a caller submits. */
export interface JobRequest extends JobOwner {
  readonly settings: JobSettings;
  /** The photo, as an encoded image file (PNG). */
  readonly content: Uint8Array;
  /** The member's own painting for this job (an encoded image file); else `settings.presetId` names the style. */
  readonly styleImage?: Uint8Array;
  /**
   * A finished picture to refine instead of painting the photo afresh (an encoded image file): the result
   * an HD job repaints larger. The run starts from it as it is (no seeded start noise) and skips the
   * scales it already covers.
   */
  readonly initImage?: Uint8Array;
  /** The job this one re-rolls or refines, if any. */
  readonly parentId?: string;
  readonly replyTo?: unknown;
}

/** Why a job ended without a result. */
export const STOP_REASONS = [
  "cancelled",
  "crashed",
  "timed_out",
  "unavailable",
  "style_missing",
  "failed",
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** A job as stored: the request plus where it is in its life (see src/store/job-table.ts). */
export interface JobRecord extends Omit<StoredJob, "settings" | "stopReason"> {
  readonly settings: JobSettings;
  readonly stopReason?: StopReason;
}

/** The store keeps settings as JSON it does not interpret; only this layer writes them. */
export function asJobRecord(stored: StoredJob): JobRecord {
  return stored as JobRecord;
}

export function isFinished(state: JobState): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

/** Seeds stay below 2^31 so every engine and PRNG takes them as they are. */
export const MAX_SEED = 2 ** 31 - 1;

export function randomSeed(): number {
  return randomInt(0, MAX_SEED);
}

/** What a job id may look like where one comes back from outside (button ids, file names). */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Short, URL- and custom-id-safe, unguessable enough that ids don't leak other members' jobs. */
export function newJobId(): string {
  return randomBytes(6).toString("base64url");
}
