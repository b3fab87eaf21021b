import { rm } from "node:fs/promises";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDuration } from "../src/duration.js";
import {
  ALICE,
  BOB,
  descriptionOf,
  jobIdOf,
  originalEdits,
  paintingReady,
  photoPng,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";
import type { RecordedRequest, SentInteraction } from "./discord-double/index.js";

/**
 * What a member sees beyond the basics: one ping per finished job, a queued estimate that is refreshed,
 * the expected time before an HD job starts (and a question when it is long), a painting of their own as
 * the style, and styles whose painting is not installed kept out of the way.
 */

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({
    env: { STYLIZE_CONCURRENCY: "1", STYLIZE_HD_CONFIRM_MIN: "0" },
    // Three scales, so that an HD refine (32 → 64 px) leaves out the 32 px one its result covers.
    engine: { stepsPerScale: 40, scales: 3 },
  });
});
afterAll(() => t?.close());

/** New messages (follow-ups or channel posts) that mention the member. */
function pingsOf(userId: string, since: number): RecordedRequest[] {
  return t.double.requests.filter(
    (r) =>
      r.method === "POST" &&
      r.status < 300 &&
      r.at >= since &&
      (r.route.startsWith("/webhooks/") || r.route.endsWith("/messages")) &&
      ((r.json as { content?: string })?.content ?? "").includes(`<@${userId}>`),
  );
}

async function privateText(sent: SentInteraction): Promise<string> {
  const callback = await sent.response;
  expect(callback.type).toBe(4);
  expect(Number(callback.data?.flags) & 64).toBe(64);
  return String(callback.data?.content);
}

describe("what a member sees", () => {
  it("refreshes a queued member's estimate, and pings each member exactly once when their painting is ready", async () => {
    // A first painting, so estimates come from measured speed rather than a prior.
    const warmUpAt = Date.now();
    await paintingReady(
      t.double,
      (await sendStylize(t.double, BOB, { style: "starry-test", size: 32 })).token,
    );
    await t.eventually(() => pingsOf(BOB.id, warmUpAt).length === 1);
    const since = Date.now();
    const first = await sendStylize(t.double, ALICE, { style: "starry-test", size: 64 });
    await t.eventually(() =>
      originalEdits(t.double, first.token).some((r) => descriptionOf(r).includes("Painting —")),
    );
    const queued = await sendStylize(t.double, BOB, { style: "starry-test" });
    await paintingReady(t.double, queued.token);
    const estimates = originalEdits(t.double, queued.token)
      .map((r) => /Starts in about (.+?);/.exec(descriptionOf(r))?.[1])
      .filter(Boolean);
    expect(new Set(estimates).size).toBeGreaterThanOrEqual(2); // the estimate moved while Bob waited
    await t.eventually(() => pingsOf(ALICE.id, since).length === 1 && pingsOf(BOB.id, since).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(pingsOf(ALICE.id, since)).toHaveLength(1);
    expect(pingsOf(BOB.id, since)).toHaveLength(1);
  });

  it("HD says what it does and its cost (less than painting the photo at that size), then refines the result as it is", async () => {
    const sent = await sendStylize(t.double, ALICE, { style: "wave-test", size: 32 });
    await paintingReady(t.double, sent.token);
    const messageId = t.double.originalResponse(sent.token)!.id;
    const jobId = jobIdOf(t.double, sent.token);
    const { jobs } = t.bot.context;
    const parent = (await jobs.get(jobId))!;
    expect(parent.resultBlob).toBeDefined();

    // What the confirm will say: the refine skips the 32 px scale its starting picture already covers,
    // so it is estimated below the same job painted from the photo.
    const hdSettings = { ...parent.settings, size: 64 };
    const photo = await jobs.blob(parent.contentBlob);
    const fromPhoto = await jobs.estimate({ settings: hdSettings, content: photo });
    const refine = await jobs.estimate({
      settings: hdSettings,
      content: photo,
      initImage: await jobs.blob(parent.resultBlob!),
    });
    expect(refine.measured).toBe(true);
    expect(refine.runMs).toBeLessThan(0.9 * fromPhoto.runMs);

    const ask = t.double.clickButton({ customId: `hd:${jobId}`, messageId, user: ALICE });
    const question = await privateText(ask);
    expect(question).toMatch(
      /^HD repaints this picture at 64 px, starting from it rather than from your photo: about .+ of painting.*Start it\?$/,
    );
    expect(question).toContain(`about ${formatDuration(refine.runMs)} of painting`);
    expect(question).not.toMatch(/quality|hq/);
    const button = (await ask.response).data as {
      components: { components: { custom_id: string; label: string }[] }[];
    };
    const start = button.components[0]!.components[0]!;
    expect(start.custom_id).toBe(`hdgo:${jobId}`);
    expect(start.label).toMatch(/^Start HD \(about .+\)$/);

    const go = t.double.clickButton({ customId: start.custom_id, messageId, user: ALICE });
    expect((await go.response).type).toBe(5);
    const starting = await t.double.waitFor(
      (r) => r.path.includes(go.token) && descriptionOf(r).startsWith("Starting — about"),
      { timeoutMs: 30_000 },
    );
    expect(descriptionOf(starting)).toMatch(/of painting/);
    const hd = await paintingReady(t.double, go.token);
    expect(descriptionOf(hd)).toContain("HD: the same picture, repainted at 64 px (was 32 px)");
    // The same settings at twice the size (no switch to a slower schedule), starting from the result.
    const refined = (await jobs.get(jobIdOf(t.double, go.token)))!;
    expect(refined.settings).toEqual(hdSettings);
    expect(refined.initBlob).toBe(parent.resultBlob);

    // 64 px is this bot's largest size: a second HD is refused, in words that still make sense.
    const again = t.double.clickButton({
      customId: `hd:${refined.id}`,
      messageId: t.double.originalResponse(go.token)!.id,
      user: ALICE,
    });
    expect(await privateText(again)).toBe("That's already the largest size I make (64 px).");
  });

  it("paints with a painting the member brings for one job, and re-rolls it with the same painting", async () => {
    const painting = await sharp({ create: { width: 60, height: 40, channels: 3, background: "#c03020" } })
      .png()
      .toBuffer();
    const image = t.double.hostAttachment(await photoPng(), {
      filename: "photo.png",
      contentType: "image/png",
    });
    const style = t.double.hostAttachment(painting, { filename: "mine.png", contentType: "image/png" });
    const sent = t.double.sendCommand({
      name: "stylize",
      user: ALICE,
      options: { image, style_image: style } as never,
    });
    const done = await paintingReady(t.double, sent.token);
    expect((done.json as { embeds: { title: string }[] }).embeds[0]!.title).toBe(
      "In the style of your own painting",
    );
    expect(t.double.downloadsOf(style.id)).toBe(1);

    const reroll = t.double.clickButton({
      customId: `reroll:${jobIdOf(t.double, sent.token)}`,
      messageId: t.double.originalResponse(sent.token)!.id,
      user: ALICE,
    });
    const again = await paintingReady(t.double, reroll.token);
    expect((again.json as { embeds: { title: string }[] }).embeds[0]!.title).toBe(
      "In the style of your own painting",
    );
    expect(t.double.downloadsOf(style.id)).toBe(1); // kept with the job, not fetched again
  });

  it("keeps a style whose painting is not installed out of autocomplete, marks it in /styles, and refuses it up front", async () => {
    const preset = t.bot.context.presets.get("wave-test")!;
    await rm(preset.file);

    const choices = (
      (
        await t.double.sendAutocomplete({
          name: "stylize",
          user: ALICE,
          focused: "style",
          options: { style: "" } as never,
        }).response
      ).data as { choices: { value: string }[] }
    ).choices.map((c) => c.value);
    expect(choices).toEqual(["starry-test"]);

    const styles = t.double.sendCommand({ name: "styles", user: ALICE });
    const page = await t.double.waitFor((r) => r.method === "PATCH" && r.path.includes(styles.token));
    const wave = (page.json as { embeds: { title: string; description: string }[] }).embeds.find((e) =>
      e.title.startsWith("Wave Test"),
    );
    expect(wave?.description).toContain("Not installed on this bot yet");

    const sent = await sendStylize(t.double, ALICE, { style: "wave-test" });
    expect(await privateText(sent)).toMatch(/The painting for “Wave Test” isn't installed on this bot yet/);
  });
});
