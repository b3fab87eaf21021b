import type { Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";
import { rateLimitDelayMs } from "./discord-retry.js";

/**
 * Edits one message at most once per interval with progress updates. They are coalesced: only the newest
 * waiting one is rendered (so a burst of preview frames costs one encode and one request), and one that
 * hits a rate limit is dropped rather than retried, keeping the bot far from Discord's limits. The final
 * message is not this class's: settle() stops the updates and waits for the one in flight, and the caller
 * then sends its last word with retries (discord-retry.ts).
 */

export type Render<P> = () => P | Promise<P>;

export class ThrottledEditor<P> {
  readonly #send: (payload: P) => Promise<void>;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #pending: Render<P> | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #blockedUntil = 0;
  #closed = false;
  /** Progress updates that were rate limited and dropped. */
  dropped = 0;
  /** Progress updates that reached Discord. */
  sent = 0;

  constructor(send: (payload: P) => Promise<void>, intervalMs: number, log: Logger) {
    this.#send = send;
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  /** Queue a progress update; replaces any update still waiting for its turn. */
  update(render: Render<P>): void {
    if (this.#closed) return;
    this.#pending = render;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#inFlight || !this.#pending) return;
    const now = Date.now();
    const wait = Math.max(0, this.#lastSentAt + this.#intervalMs - now, this.#blockedUntil - now);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, wait);
  }

  async #flush(): Promise<void> {
    const render = this.#pending;
    this.#pending = undefined;
    if (!render || this.#closed) return;
    this.#inFlight = (async () => {
      try {
        const payload = await render();
        // Spaced from when requests leave, not from when rendering (e.g. encoding a frame) began.
        this.#lastSentAt = Date.now();
        await this.#send(payload);
        this.sent++;
      } catch (error) {
        const delay = rateLimitDelayMs(error);
        if (delay === undefined) {
          this.#log.warn({ err: loggableError(error) }, "progress update failed; dropped");
        } else {
          this.dropped++;
          this.#blockedUntil = Date.now() + delay;
          this.#log.debug({ retryAfterMs: delay }, "progress update rate limited; frame dropped");
        }
      }
    })();
    await this.#inFlight;
    this.#inFlight = undefined;
    this.#schedule();
  }

  /** Stops progress updates and waits for the one in flight; resolves with how long a 429 asked to wait. */
  async settle(): Promise<number> {
    this.close();
    await this.#inFlight;
    return Math.max(0, this.#blockedUntil - Date.now());
  }

  /** Stop without a last payload (e.g. the bot is shutting down). */
  close(): void {
    this.#closed = true;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
