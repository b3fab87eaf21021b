import { setTimeout as sleep } from "node:timers/promises";
import { DiscordAPIError, HTTPError, RateLimitError } from "discord.js";
import type { Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";

/**
 * Sending something a member must see (a result, a refusal, an error) through Discord's bad moments: a 429
 * waits as long as Discord says (route or global), and a 5xx or a network failure is retried with growing
 * pauses until a deadline, so a few minutes' outage delays the message instead of losing it. Anything
 * else (a 4xx: the message is wrong, the token died) is the caller's to handle, at once.
 */

export interface RetryOptions {
  /** Give up (rethrow the last error) once this much time has passed. */
  readonly deadlineMs: number;
  readonly log: Logger;
  /** What is being sent, for the log. */
  readonly what: string;
  /** First pause after a failure; doubles up to maxPauseMs. */
  readonly firstPauseMs?: number;
  readonly maxPauseMs?: number;
}

/** How long Discord asked us to wait, for a rate-limit error; undefined for anything else. */
export function rateLimitDelayMs(error: unknown): number | undefined {
  if (error instanceof RateLimitError) return error.retryAfter;
  if (error instanceof DiscordAPIError && error.status === 429) return 1000;
  return undefined;
}

/** A server-side or network failure: worth trying again later. */
export function isTransient(error: unknown): boolean {
  if (error instanceof DiscordAPIError || error instanceof HTTPError) return error.status >= 500;
  if (!(error instanceof Error)) return false;
  // undici's fetch failures, aborted (timed out) requests and dropped sockets.
  const code = (error as { code?: string }).code ?? (error.cause as { code?: string } | undefined)?.code;
  return (
    error.name === "AbortError" ||
    error.message === "fetch failed" ||
    ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "UND_ERR_SOCKET", "EAI_AGAIN"].includes(code ?? "")
  );
}

export async function withDiscordRetry<T>(send: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + options.deadlineMs;
  let pause = options.firstPauseMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const limited = rateLimitDelayMs(error);
      if (limited === undefined && !isTransient(error)) throw error;
      const wait = limited ?? pause;
      if (Date.now() + wait > deadline) throw error;
      options.log.warn(
        { err: loggableError(error), attempt, retryInMs: wait, what: options.what },
        limited === undefined ? "Discord unavailable; retrying" : "rate limited; retrying",
      );
      await sleep(wait);
      if (limited === undefined) pause = Math.min(pause * 2, options.maxPauseMs ?? 30_000);
    }
  }
}
