import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { data as stylizeCommand } from "../commands/stylize.js";
import {
  ALICE,
  BOB,
  embedOf,
  jobIdOf,
  originalEdits,
  paintingReady,
  photoPng,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";

/**
 * /stylize end to end: a real discord.js client against the loopback Discord double, the real engine
 * in its own process on the production CPU path, onnxruntime (tiny VGG weights, 48 px, 2 scales of 400
 * steps). The other bot tests use the cpu backend.
 */

let t: TestBot;
beforeAll(async () => {
  // onnxruntime takes 1–3 ms per step on this tiny network: enough steps that a run spans several
  // progress edits (150 ms apart) even on a fast machine (100 steps per scale gave a single edit once).
  t = await startTestBot({ env: { STYLIZE_BACKEND: "onnxruntime" }, engine: { stepsPerScale: 400 } });
  // As in production, where the bot starts long before its first job: the engine is warm (weights loaded,
  // sessions built) when the job leaves the queue.
  await t.bot.engineReady();
});
afterAll(() => t?.close());

describe("/stylize", () => {
  it("defers at once, shows progress with preview frames, ends with the image, seed and buttons, then pings once with the timelapse", async () => {
    const times: Record<string, { started?: number; firstPreview?: number; lastStep?: number }> = {};
    const stopListening = t.bot.jobs.onEvent((jobId, event) => {
      times[jobId] ??= {};
      const job = times[jobId];
      if (event.type === "started") job.started = Date.now();
      if (event.type === "progress") job.lastStep = Date.now();
      if (event.type === "progress" && event.preview) job.firstPreview ??= Date.now();
    });
    const sentAt = Date.now();
    const sent = await sendStylize(t.double, ALICE, { style: "starry-test", seed: 1234, size: 48 });
    const callback = await sent.response;
    expect(callback.type).toBe(5); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    expect(callback.at - sentAt).toBeLessThan(3000);

    const final = await paintingReady(t.double, sent.token);
    stopListening();
    // Nothing idle around the engine: the result goes out as soon as the last step ends (the timelapse
    // follows), and the first preview comes right after the start. Printed; bounded loosely, since a
    // loaded machine stretches both.
    const job = times[jobIdOf(t.double, sent.token)]!;
    const lastStepToResult = final.at - job.lastStep!;
    const startToPreview = job.firstPreview! - job.started!;
    console.info(
      `last step → result delivered: ${lastStepToResult} ms; start → first preview: ${startToPreview} ms`,
    );
    expect(lastStepToResult).toBeLessThan(5000);
    expect(startToPreview).toBeLessThan(5000);
    const edits = originalEdits(t.double, sent.token);
    const progress = edits.filter((r) => r.files.some((f) => f.name === "preview.jpg"));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const edit of progress) {
      expect(embedOf(edit).description).toMatch(/\d+%`\nPainting — about .+ left|Finishing up/);
      expect(embedOf(edit).image?.url).toBe("attachment://preview.jpg");
      // Previews are shown at the result's size from the first frame on.
      const preview = edit.files.find((f) => f.name === "preview.jpg")!;
      const size = await sharp(preview.data).metadata();
      expect([size.width, size.height]).toEqual([48, 36]);
    }
    // Throttled: progress edits at least about the configured interval apart (150 ms in tests); the
    // final edit is not held back.
    const progressEdits = edits.slice(0, -1);
    for (let i = 1; i < progressEdits.length; i++) {
      expect(progressEdits[i]!.at - progressEdits[i - 1]!.at).toBeGreaterThanOrEqual(100);
    }

    const result = final.files.find((f) => f.name.startsWith("stylized-1234."));
    expect(result).toBeDefined();
    const meta = await sharp(result!.data).metadata();
    expect([meta.width, meta.height]).toEqual([48, 36]);
    expect(embedOf(final).description).toContain("Seed **1234**");
    // Then one new message mentions Alice, links to the result and carries the timelapse.
    const ping = await t.double.waitFor(
      (r) =>
        r.method === "POST" &&
        r.route.startsWith("/webhooks/") &&
        r.path.includes(sent.token) &&
        r.status < 300,
      { timeoutMs: 30_000 },
    );
    const pingJson = ping.json as { content: string; allowed_mentions: { users: string[] } };
    expect(pingJson.content).toContain(`<@${ALICE.id}>, your painting is ready`);
    expect(pingJson.content).toContain(t.double.originalResponse(sent.token)!.id);
    expect(pingJson.allowed_mentions.users).toEqual([ALICE.id]);
    const timelapse = ping.files.find((f) => f.name === "timelapse.webp");
    expect(timelapse).toBeDefined();
    expect((await sharp(timelapse!.data).metadata()).pages).toBeGreaterThanOrEqual(3);

    const ids = (final.json as { components: { components: { custom_id: string }[] }[] }).components.flatMap(
      (row) => row.components.map((c) => c.custom_id.split(":")[0]),
    );
    expect(ids).toEqual(["reroll", "stronger", "weaker", "hd"]);
  });

  it("answers bad input privately and kindly: not an image, wrong type, expired link, unknown style", async () => {
    const text = Buffer.from("just some text, not pixels");
    const cases = [
      {
        attachment: t.double.hostAttachment(text, { filename: "photo.png", contentType: "image/png" }),
        expected: /isn't an image I can read/,
      },
      {
        attachment: t.double.hostAttachment(text, { filename: "notes.txt", contentType: "text/plain" }),
        expected: /doesn't look like an image \(text\/plain\)/,
      },
      {
        attachment: t.double.hostAttachment(await photoPng(), {
          filename: "photo.png",
          contentType: "image/png",
          expiresInMs: 1,
        }),
        expected: /link to your image expired/,
      },
      {
        attachment: t.double.hostAttachment(await photoPng(), {
          filename: "photo.png",
          contentType: "image/png",
        }),
        style: "no-such-painting",
        expected: /I don't know the style “no-such-painting”/,
      },
    ];
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the 1 ms link expire
    for (const { attachment, style, expected } of cases) {
      const sent = t.double.sendCommand({
        name: "stylize",
        user: ALICE,
        options: { image: attachment, style: style ?? "starry-test" } as never,
      });
      expect(await privateReply(sent.token, sent.response)).toMatch(expected);
    }
    // Nothing was queued, and the public placeholder of a deferred reply was removed.
    expect((await t.bot.jobs.status(ALICE.id)).jobs).toEqual([]);
    const publicLeftovers = [...t.double.messages.values()].filter(
      (m) =>
        m.interaction?.user.id === ALICE.id &&
        !m.deleted &&
        !m.ephemeral &&
        !m.content &&
        m.edits.length === 0,
    );
    expect(publicLeftovers).toEqual([]);
  });

  it("autocompletes styles from the presets, at most 25", async () => {
    const sent = t.double.sendAutocomplete({
      name: "stylize",
      user: ALICE,
      focused: "style",
      options: { style: "other" } as never,
    });
    const callback = await sent.response;
    expect(callback.type).toBe(8);
    const choices = (callback.data as { choices: { name: string; value: string }[] }).choices;
    expect(choices).toEqual([{ name: "Wave Test — Other Painter, c. 1831", value: "wave-test" }]);
    const all = (
      await t.double.sendAutocomplete({
        name: "stylize",
        user: ALICE,
        focused: "style",
        options: { style: "" } as never,
      }).response
    ).data as { choices: unknown[] };
    expect(all.choices.length).toBeGreaterThan(1);
    expect(all.choices.length).toBeLessThanOrEqual(25);
  });
});

describe("result buttons", () => {
  it("Re-roll is for the requester only and starts a new job with a new seed", async () => {
    const sent = await sendStylize(t.double, ALICE, { style: "starry-test", seed: 77 });
    await paintingReady(t.double, sent.token);
    const messageId = t.double.originalResponse(sent.token)!.id;
    const jobId = jobIdOf(t.double, sent.token);
    // Members get one schedule (the presets differ in time, not in the picture: docs/look.md).
    expect((await t.bot.context.jobs.get(jobId))?.settings.quality).toBe("balanced");

    const bob = t.double.clickButton({ customId: `reroll:${jobId}`, messageId, user: BOB });
    expect(await privateReply(bob.token, bob.response)).toMatch(/Only <@200000000000000001> can re-run/);

    const click = t.double.clickButton({ customId: `reroll:${jobId}`, messageId, user: ALICE });
    expect((await click.response).type).toBe(5); // a new reply for the new job
    const rerolled = await paintingReady(t.double, click.token);
    const seed = /Seed \*\*(\d+)\*\*/.exec(embedOf(rerolled).description ?? "")?.[1];
    expect(seed).toBeDefined();
    expect(seed).not.toBe("77");
    expect(embedOf(rerolled).description).toContain(`A fresh take: new seed ${seed} (was 77)`);
    expect(rerolled.files.some((f) => f.name === `stylized-${seed}.png`)).toBe(true);

    // Stronger keeps the seed and raises the strength one step (balanced 0.5 → 65%).
    const stronger = t.double.clickButton({ customId: `stronger:${jobId}`, messageId, user: ALICE });
    const strongerFinal = await paintingReady(t.double, stronger.token);
    const footer = (strongerFinal.json as { embeds: { footer: { text: string } }[] }).embeds[0]!.footer.text;
    expect(footer).toMatch(/^Strength 65% · 48 px · .* · seed 77 ·/);
    expect(embedOf(strongerFinal).description).toContain("Stronger: strength 65% (was balanced)");
  });
});

describe("other commands", () => {
  it("/styles lists the presets with thumbnails and page buttons; paging edits the same message", async () => {
    const sent = t.double.sendCommand({ name: "styles", user: ALICE });
    const callback = await sent.response;
    expect(callback.type).toBe(5);
    expect(Number(callback.data?.flags) & 64).toBe(64);
    const page = await t.double.waitFor((r) => r.method === "PATCH" && r.path.includes(sent.token));
    const json = page.json as {
      embeds: { title: string; thumbnail?: { url: string } }[];
      components: { components: { custom_id: string; disabled?: boolean }[] }[];
    };
    expect(json.embeds.map((e) => e.title)).toEqual(["Starry Test (1889)", "Wave Test (c. 1831)"]);
    expect(json.embeds[0]!.thumbnail?.url).toBe("attachment://starry-test.jpg");
    expect(page.files.map((f) => f.name).sort()).toEqual(["starry-test.jpg", "wave-test.jpg"]);
    const buttons = json.components[0]!.components;
    expect(buttons.map((b) => [b.custom_id, Boolean(b.disabled)])).toEqual([
      ["styles:-1", true],
      ["styles:0:current", true],
      ["styles:1", true],
    ]);
    const click = t.double.clickButton({
      customId: "styles:0",
      messageId: t.double.originalResponse(sent.token)!.id,
      user: ALICE,
    });
    expect((await click.response).type).toBe(6);
    await t.double.waitFor((r) => r.method === "PATCH" && r.path.includes(click.token));
  });

  it("/queue and /help answer privately", async () => {
    const queue = await t.double.sendCommand({ name: "queue", user: ALICE }).response;
    expect(queue.type).toBe(4);
    expect(Number(queue.data?.flags) & 64).toBe(64);
    const queueText = JSON.stringify(queue.data);
    expect(queueText).toContain("You have no jobs queued or running.");
    expect(queueText).toMatch(/Speed: about [\d.]+ megapixels of finished painting per minute/); // jobs ran earlier
    const help = await t.double.sendCommand({ name: "help", user: ALICE }).response;
    expect(JSON.stringify(help.data)).toContain("/stylize");
    // No quality option any more, neither offered nor explained.
    expect(JSON.stringify(help.data)).not.toMatch(/quality/i);
    expect(stylizeCommand.toJSON().options?.map((o) => o.name)).not.toContain("quality");
  });
});

/** The ephemeral text a member got: an immediate ephemeral reply, or an ephemeral follow-up. */
async function privateReply(
  token: string,
  response: Promise<{ type: number; data?: Record<string, unknown> }>,
) {
  const callback = await response;
  if (callback.type === 4) {
    expect(Number(callback.data?.flags) & 64).toBe(64);
    return String(callback.data?.content);
  }
  const followUp = await t.double.waitFor(
    (r) => r.method === "POST" && r.path.startsWith("/webhooks") && r.path.includes(token),
    { timeoutMs: 10_000 },
  );
  const json = followUp.json as { content: string; flags: number };
  expect(json.flags & 64).toBe(64);
  return json.content;
}
