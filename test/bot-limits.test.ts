import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, jobsReleased, paintingReady, photoPng, startTestBot, type TestBot } from "./bot-helpers.js";

/**
 * Limits before work: a member's limit, the server's and the queue cap are held the moment a command
 * arrives, before the public placeholder, the download or the decode; a shape the engine cannot paint is
 * refused (or painted larger) up front rather than failing in the queue.
 */

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ env: { STYLIZE_PER_USER_LIMIT: "2" }, engine: { stepsPerScale: 200 } });
});
afterAll(() => t?.close());

describe("limits before work", () => {
  it("admits 2 of 20 simultaneous /stylize from one member and refuses 18 privately before any download", async () => {
    const photo = await photoPng();
    const attachments = Array.from({ length: 20 }, () =>
      t.double.hostAttachment(photo, { filename: "photo.png", contentType: "image/png" }),
    );
    const sent = attachments.map((image) =>
      t.double.sendCommand({
        name: "stylize",
        user: ALICE,
        options: { image, style: "starry-test" } as never,
      }),
    );
    const callbacks = await Promise.all(sent.map((s) => s.response));
    const deferred = callbacks.filter((c) => c.type === 5);
    const refused = callbacks.filter((c) => c.type === 4);
    expect(deferred).toHaveLength(2);
    expect(refused).toHaveLength(18);
    for (const refusal of refused) {
      expect(Number(refusal.data?.flags) & 64).toBe(64); // private
      expect(String(refusal.data?.content)).toMatch(/you already have 2 jobs queued or running/);
    }
    // Only the two admitted photos were ever fetched from Discord's CDN.
    await t.eventually(() => attachments.filter((a) => t.double.downloadsOf(a.id) > 0).length === 2);
    expect(attachments.reduce((n, a) => n + t.double.downloadsOf(a.id), 0)).toBe(2);
    // Clear the queue for the next test.
    for (const { job } of (await t.bot.jobs.status(ALICE.id)).jobs) await t.bot.jobs.cancel(job.id, ALICE.id);
    await jobsReleased(t, ALICE);
  });

  it("refuses a photo too thin to paint at the largest size before downloading it, saying what to do", async () => {
    const image = t.double.hostAttachment(await photoPng(160, 20), {
      filename: "strip.png",
      contentType: "image/png",
    });
    const sent = t.double.sendCommand({
      name: "stylize",
      user: ALICE,
      options: { image, style: "starry-test" } as never,
    });
    const callback = await sent.response;
    expect(callback.type).toBe(4);
    expect(String(callback.data?.content)).toMatch(/very long and thin \(8:1\).*Crop it to at most 4:1/);
    expect(t.double.downloadsOf(image.id)).toBe(0);
  });

  it("paints a thin photo larger when the bot allows it, instead of failing in the queue", async () => {
    const quick = await startTestBot(); // the default schedule: a short run
    try {
      const image = quick.double.hostAttachment(await photoPng(120, 30), {
        filename: "pano.png",
        contentType: "image/png",
      });
      const sent = quick.double.sendCommand({
        name: "stylize",
        user: ALICE,
        options: { image, style: "starry-test", size: 48 } as never,
      });
      const final = await paintingReady(quick.double, sent.token);
      const result = final.files.find((f) => f.name.startsWith("stylized-"))!;
      // At 48 px the short side would be 12 px; the deepest default layer needs 16, so it is painted at 64.
      const meta = await sharp(result.data).metadata();
      expect([meta.width, meta.height]).toEqual([64, 16]);
    } finally {
      await quick.close();
    }
  });
});
