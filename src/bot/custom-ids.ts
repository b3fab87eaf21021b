import { JOB_ID_PATTERN } from "../jobs/index.js";

/**
 * Button ids carry everything a handler needs (`action:argument`), so one global handler serves every
 * button, including those on messages sent before a restart. Discord caps custom ids at 100 characters.
 */

/** `hdgo` starts an HD job the member confirmed after seeing its expected time. */
export const JOB_ACTIONS = ["cancel", "reroll", "stronger", "weaker", "hd", "hdgo"] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export type ButtonId =
  | { kind: "job"; action: JobAction; jobId: string }
  | { kind: "styles"; page: number }
  | { kind: "favourites"; page: number };

export function jobButtonId(action: JobAction, jobId: string): string {
  return `${action}:${jobId}`;
}

export function stylesPageId(page: number): string {
  return `styles:${page}`;
}

/** The member and guild come from the click itself, so the page number is all the id needs. */
export function favouritesPageId(page: number): string {
  return `favourites:${page}`;
}

/** Undefined for ids this bot never made (or made by an older, incompatible version). */
export function parseButtonId(customId: string): ButtonId | undefined {
  const separator = customId.indexOf(":");
  if (separator < 0) return undefined;
  const action = customId.slice(0, separator);
  const argument = customId.slice(separator + 1);
  if (action === "styles" || action === "favourites") {
    const page = Number(argument);
    return Number.isInteger(page) && page >= 0 ? { kind: action, page } : undefined;
  }
  if ((JOB_ACTIONS as readonly string[]).includes(action) && JOB_ID_PATTERN.test(argument)) {
    return { kind: "job", action: action as JobAction, jobId: argument };
  }
  return undefined;
}
