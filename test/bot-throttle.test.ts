import { RateLimitError } from "discord.js";
import { describe, expect, it } from "vitest";
import { ThrottledEditor } from "../src/bot/throttled-editor.js";
import { createLogger } from "../src/log.js";

const log = createLogger({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rateLimit(retryAfter: number): RateLimitError {
  return new RateLimitError({
    timeToReset: retryAfter,
    limit: 5,
    method: "PATCH",
    hash: "h",
    url: "http://x/webhooks/1/t/messages/@original",
    route: "/webhooks/:id/:token/messages/:id",
    majorParameter: "1",
    global: false,
    retryAfter,
    sublimitTimeout: 0,
    scope: "user",
  });
}

describe("ThrottledEditor", () => {
  it("sends at most one edit per interval and renders only the newest pending update", async () => {
    const sent: { value: number; at: number }[] = [];
    let renders = 0;
    const editor = new ThrottledEditor<number>(
      async (value) => {
        sent.push({ value, at: Date.now() });
      },
      100,
      log,
    );
    for (let i = 1; i <= 50; i++) {
      editor.update(() => {
        renders++;
        return i;
      });
      await sleep(5);
    }
    await sleep(150);
    await editor.settle();
    const values = sent.map((s) => s.value);
    expect(values.at(-1)).toBe(50); // the newest progress update was not lost
    // ~250 ms of updates at one per 100 ms: a handful of edits, not fifty.
    expect(sent.length).toBeLessThanOrEqual(5);
    expect(renders).toBe(sent.length);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(95);
  });

  it("drops a rate-limited progress frame instead of retrying it, and says how long the limit lasts", async () => {
    const attempts: number[] = [];
    let limited = true;
    const editor = new ThrottledEditor<number>(
      async (value) => {
        attempts.push(value);
        if (limited) {
          limited = false;
          throw rateLimit(50);
        }
      },
      10,
      log,
    );
    editor.update(() => 1);
    await sleep(5);
    // The limit (50 ms) is still running: settle() reports what is left of it for the final message.
    const blockedMs = await editor.settle();
    expect(blockedMs).toBeGreaterThan(20);
    expect(blockedMs).toBeLessThanOrEqual(50);

    limited = true;
    const next = new ThrottledEditor<number>(async (value) => void attempts.push(value), 10, log);
    next.update(() => 2);
    await sleep(30);
    await next.settle();
    expect(attempts).toEqual([1, 2]); // frame 1 was not retried
    expect(editor.dropped).toBe(1);
    expect(editor.sent).toBe(0);
    expect(next.sent).toBe(1);
  });

  it("ignores progress once settled (the job's last word is on its way)", async () => {
    const sent: string[] = [];
    const editor = new ThrottledEditor<string>(async (v) => void sent.push(v), 10, log);
    editor.update(() => "first");
    await editor.settle();
    editor.update(() => "late");
    await sleep(30);
    expect(sent).toEqual([]);
  });
});
