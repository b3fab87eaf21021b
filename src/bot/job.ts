import { randomBytes, randomInt } from "node:crypto";
import type { Quality, RgbImage } from "../engine/index.js";
import type { QueuedJob } from "../queue/fair-queue.js";

/** What a member asked for; everything needed to run (or re-run) a job besides the photo. */
export interface JobSettings {
  readonly presetId: string;
  /** 0..1; 0.5 is the preset's own balance of style and content. */
  readonly strength: number;
  readonly quality: Quality;
  /** Long edge of the output in pixels. */
  readonly size: number;
  readonly preserveColors: boolean;
  readonly seed: number;
}

export interface Job extends QueuedJob {
  readonly settings: JobSettings;
  readonly content: RgbImage;
  readonly channelId: string;
  /** Absent for jobs started outside a guild (and jobs archived before guilds were recorded). */
  readonly guildId?: string;
  readonly createdAt: number;
  /** The job this one re-rolls or refines, if any. */
  readonly parentId?: string;
  /** Queued again after a restart interrupted it. */
  readonly resumed?: boolean;
}

export const STRENGTH_CHOICES = { subtle: 0.3, balanced: 0.5, strong: 0.75 } as const;
export type StrengthName = keyof typeof STRENGTH_CHOICES;
/** How far Stronger / Weaker move the strength. */
export const STRENGTH_STEP = 0.15;
const STRENGTH_RANGE = [0.05, 0.95] as const;

export function clampStrength(strength: number): number {
  return Math.round(Math.min(STRENGTH_RANGE[1], Math.max(STRENGTH_RANGE[0], strength)) * 100) / 100;
}

export function describeStrength(strength: number): string {
  const named = Object.entries(STRENGTH_CHOICES).find(([, value]) => value === strength);
  return named ? named[0] : `${Math.round(strength * 100)}%`;
}

/** Seeds stay below 2^31 so every engine and PRNG takes them as they are. */
export const MAX_SEED = 2 ** 31 - 1;

export function randomSeed(): number {
  return randomInt(0, MAX_SEED);
}

/** What a job id may look like where one comes back from outside (button ids, archive file names). */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Short, URL- and custom-id-safe, unguessable enough that ids don't leak other members' jobs. */
export function newJobId(): string {
  return randomBytes(6).toString("base64url");
}
