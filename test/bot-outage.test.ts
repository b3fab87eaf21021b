import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  descriptionOf,
  isOriginalEdit,
  originalEdits,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";
import type { RecordedRequest } from "./discord-double/index.js";

/**
 * A finished painting survives Discord's bad moments: an outage (502/503) or a global rate limit covering
 * the final upload delays the result until Discord is back; it is then delivered exactly once, and the
 * member's ping follows.
 */

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ engine: { stepsPerScale: 30 } });
});
afterAll(() => t?.close());

const ORIGINAL = "/webhooks/:application/:token/messages/@original";
const FOLLOW_UP = "/webhooks/:application/:token";

const isResult = (r: RecordedRequest) => descriptionOf(r).includes("your painting is ready");

async function startPainting() {
  const sent = await sendStylize(t.double, ALICE, { style: "wave-test" });
  await t.eventually(() => originalEdits(t.double, sent.token).some((r) => r.status < 300));
  return sent;
}

describe("delivery through outages", () => {
  it("rides out a 10-second 502/503 outage covering the final upload and delivers once after it", async () => {
    const sent = await startPainting();
    // Discord goes down (for as long as it takes the painting to finish) and stays down 10 s after the
    // result's first refused upload.
    t.double.injectError({ method: "PATCH", route: ORIGINAL, forMs: 600_000 }, { httpStatus: 502 });
    t.double.injectError({ method: "POST", route: FOLLOW_UP, forMs: 600_000 }, { httpStatus: 503 });
    const refused = await t.double.waitFor(
      (r) => isOriginalEdit(r, sent.token) && r.status === 502 && isResult(r),
      {
        timeoutMs: 120_000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 10_000 - (Date.now() - refused.at)));
    t.double.clearInjectedErrors();
    const outageEnds = Date.now();

    const delivered = await t.double.waitFor(
      (r) => isOriginalEdit(r, sent.token) && r.status < 300 && isResult(r),
      {
        timeoutMs: 60_000,
      },
    );
    expect(delivered.at).toBeGreaterThanOrEqual(outageEnds);
    const attempts = originalEdits(t.double, sent.token).filter(isResult);
    expect(attempts.filter((r) => r.status < 300)).toHaveLength(1);
    expect(delivered.files.some((f) => f.name.startsWith("stylized-"))).toBe(true);

    const ping = await t.double.waitFor(
      (r) =>
        r.method === "POST" &&
        r.route.startsWith("/webhooks/") &&
        r.path.includes(sent.token) &&
        r.status < 300,
      { timeoutMs: 60_000 },
    );
    expect((ping.json as { content: string }).content).toContain(`<@${ALICE.id}>`);
    // Once delivered, the job is reported: nothing more goes to this reply.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(originalEdits(t.double, sent.token).filter((r) => r.at > delivered.at)).toEqual([]);
  });

  it("waits out a 5-second global rate limit covering the final upload and delivers once", async () => {
    const sent = await startPainting();
    t.double.injectError(
      { method: "PATCH", route: ORIGINAL, forMs: 600_000 },
      { rateLimit: { retryAfterSeconds: 5, global: true } },
    );
    const limited = await t.double.waitFor(
      (r) => isOriginalEdit(r, sent.token) && r.status === 429 && isResult(r),
      {
        timeoutMs: 120_000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 5000 - (Date.now() - limited.at)));
    t.double.clearInjectedErrors();
    const limitEnds = Date.now();
    const delivered = await t.double.waitFor(
      (r) => isOriginalEdit(r, sent.token) && r.status < 300 && isResult(r),
      {
        timeoutMs: 60_000,
      },
    );
    expect(delivered.at).toBeGreaterThanOrEqual(limitEnds);
    const results = originalEdits(t.double, sent.token).filter(isResult);
    expect(results.filter((r) => r.status < 300)).toHaveLength(1);
    // While limited, the bot waited as told: a handful of attempts at the result, not one per millisecond.
    expect(results.filter((r) => r.status === 429).length).toBeLessThanOrEqual(3);
  });
});
