import { DiscordAPIError, HTTPError, RateLimitError } from "discord.js";
import { describe, expect, it } from "vitest";
import { isTransient, withDiscordRetry } from "../src/bot/discord-retry.js";
import { createLogger } from "../src/log.js";

/** Sending what a member must see through 429s and outages, and giving up at once on real refusals. */

const log = createLogger({ level: "silent" });

function rateLimit(retryAfter: number, global = false): RateLimitError {
  return new RateLimitError({
    timeToReset: retryAfter,
    limit: 5,
    method: "PATCH",
    hash: "h",
    url: "http://x/webhooks/1/t/messages/@original",
    route: "/webhooks/:id/:token/messages/:id",
    majorParameter: "1",
    global,
    retryAfter,
    sublimitTimeout: 0,
    scope: global ? "global" : "user",
  });
}

function apiError(status: number, code: number): DiscordAPIError {
  return new DiscordAPIError({ code, message: "x" }, code, status, "PATCH", "http://x", {
    body: undefined,
    files: undefined,
  });
}

describe("withDiscordRetry", () => {
  it("waits out route and global rate limits for as long as Discord says", async () => {
    const errors = [rateLimit(60), rateLimit(40, true)];
    const attempts: number[] = [];
    const started = Date.now();
    const result = await withDiscordRetry(
      async () => {
        attempts.push(Date.now() - started);
        const error = errors.shift();
        if (error) throw error;
        return "sent";
      },
      { deadlineMs: 5000, log, what: "test" },
    );
    expect(result).toBe("sent");
    expect(attempts).toHaveLength(3);
    expect(attempts[1]!).toBeGreaterThanOrEqual(55);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(35);
  });

  it("rides out 5xx and network failures with growing pauses until they end", async () => {
    const failures: unknown[] = [
      new HTTPError(502, "Bad Gateway", "PATCH", "http://x", { body: undefined, files: undefined }),
      apiError(503, 0),
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } }),
    ];
    const attempts: number[] = [];
    const started = Date.now();
    await withDiscordRetry(
      async () => {
        attempts.push(Date.now() - started);
        const failure = failures.shift();
        if (failure) throw failure;
      },
      { deadlineMs: 5000, log, what: "test", firstPauseMs: 20 },
    );
    expect(attempts).toHaveLength(4);
    const pauses = attempts.slice(1).map((at, i) => at - attempts[i]!);
    expect(pauses[0]!).toBeGreaterThanOrEqual(18);
    expect(pauses[1]!).toBeGreaterThanOrEqual(38); // doubled
    expect(pauses[2]!).toBeGreaterThanOrEqual(78);
  });

  it("gives up at the deadline, and at once on a refusal that retrying cannot fix", async () => {
    let calls = 0;
    await expect(
      withDiscordRetry(
        async () => {
          calls++;
          throw apiError(502, 0);
        },
        { deadlineMs: 150, log, what: "test", firstPauseMs: 20 },
      ),
    ).rejects.toThrow(DiscordAPIError);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(5);

    calls = 0;
    await expect(
      withDiscordRetry(
        async () => {
          calls++;
          throw apiError(400, 50035);
        },
        { deadlineMs: 5000, log, what: "test" },
      ),
    ).rejects.toThrow(DiscordAPIError);
    expect(calls).toBe(1);
    expect(isTransient(apiError(404, 10008))).toBe(false);
  });
});
