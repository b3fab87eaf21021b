import pino from "pino";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  descriptionOf,
  isOriginalEdit,
  paintingReady,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";

/**
 * Getting results to members when Discord pushes back: a rate-limited progress edit is dropped (never
 * queued or retried) and the result still arrives; an expired interaction token moves the job into the
 * channel instead of losing it.
 */

let t: TestBot;
/** Everything the bot logged, through a plain pino without the redaction of src/log.ts. */
const logLines: string[] = [];
beforeAll(async () => {
  const log = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  // Longer runs than the other files, so progress continues well past the injected failures.
  t = await startTestBot({ engine: { stepsPerScale: 40 }, log });
});
afterAll(() => t?.close());

async function startJob() {
  const sent = await sendStylize(t.double, ALICE, { style: "wave-test", seed: 5 });
  expect((await sent.response).type).toBe(5);
  return sent;
}

describe("delivery", () => {
  it("drops a progress frame that hits a 429 and still delivers the final image", async () => {
    const sent = await startJob();
    await t.double.waitFor(
      (r) => isOriginalEdit(r, sent.token) && r.files.some((f) => f.name === "preview.jpg"),
      {
        timeoutMs: 30_000,
      },
    );
    t.double.injectError(
      { method: "PATCH", route: "/webhooks/:application/:token/messages/@original", times: 1 },
      { rateLimit: { retryAfterSeconds: 0.4 } },
    );
    const limited = await t.double.waitFor((r) => isOriginalEdit(r, sent.token) && r.status === 429, {
      timeoutMs: 30_000,
    });
    const final = await paintingReady(t.double, sent.token);
    const after = t.double.requests.filter((r) => isOriginalEdit(r, sent.token) && r.at > limited.at);
    // The dropped frame was never sent again; later frames are newer ones, and nothing else got a 429.
    expect(after.map(descriptionOf)).not.toContain(descriptionOf(limited));
    expect(after.every((r) => r.status < 300)).toBe(true);
    // Nothing was sent while the bucket was blocked: the first request after the 429 waited it out.
    expect(after[0]!.at - limited.at).toBeGreaterThanOrEqual(350);
    const result = final.files.find((f) => f.name.startsWith("stylized-5."));
    expect((await sharp(result!.data).metadata()).width).toBe(t.bot.context.config.images.defaultSize);
  });

  it("finishes in the channel when the interaction token has expired (50027)", async () => {
    t.double.interactionTokenExpiry(1500);
    try {
      const sent = await startJob();
      const refused = await t.double.waitFor(
        (r) => r.method === "PATCH" && r.path.includes(sent.token) && r.status === 401,
        { timeoutMs: 30_000 },
      );
      expect((refused.response as { code: number }).code).toBe(50027);
      const channelPosts = () =>
        t.double.requests.filter(
          (r) =>
            r.route === `/channels/${t.double.channelId}/messages` &&
            r.method === "POST" &&
            r.at >= refused.at,
        );
      const finalInChannel = await t.double.waitFor(
        (r) =>
          r.route.startsWith(`/channels/${t.double.channelId}/messages`) &&
          r.status < 300 &&
          descriptionOf(r).includes("your painting is ready"),
        { timeoutMs: 60_000 },
      );
      expect(finalInChannel.files.some((f) => f.name === "stylized-5.png")).toBe(true);
      // The timelapse follows in an edit of that same message.
      const withTimelapse = await t.double.waitFor(
        (r) =>
          r.method === "PATCH" &&
          r.route.startsWith(`/channels/${t.double.channelId}/messages/`) &&
          r.files.some((f) => f.name === "timelapse.webp"),
        { timeoutMs: 30_000 },
      );
      expect(withTimelapse.status).toBeLessThan(300);
      // One new message in the channel (mentioning Alice), then edits of it: no spam, no second ping.
      expect(channelPosts()).toHaveLength(1);
      expect(descriptionOf(finalInChannel)).toContain(`<@${ALICE.id}>`);
      // After the first refusal the bot stopped using the dead token.
      const laterTokenCalls = t.double.requests.filter(
        (r) => r.path.includes(sent.token) && r.at > refused.at,
      );
      expect(laterTokenCalls).toEqual([]);
    } finally {
      t.double.interactionTokenExpiry(15 * 60 * 1000);
    }
  });

  it("survives an interaction Discord no longer knows (10062) and keeps answering", async () => {
    t.double.injectError({ route: "/interactions/:id/:token/callback", times: 1 }, { discordCode: 10062 });
    const lost = await sendStylize(t.double, ALICE, { style: "wave-test" });
    await t.double.waitFor((r) => r.path.includes(lost.interactionId) && r.status === 404);
    const help = await t.double.sendCommand({ name: "help", user: ALICE }).response;
    expect(help.type).toBe(4);
    expect((await t.bot.jobs.status(ALICE.id)).jobs).toEqual([]);
  });

  it("never logged the bot token, an interaction token or a webhook URL, even for the failures above", () => {
    const logged = logLines.join("\n");
    expect(logged).toContain("job done"); // the log did capture the runs
    expect(logged).toContain("continuing in the channel");
    expect(logged).not.toContain(t.double.token);
    for (const interaction of t.double.interactions.values()) expect(logged).not.toContain(interaction.token);
    expect(logged).not.toMatch(/webhooks\/\d+\//);
  });
});
