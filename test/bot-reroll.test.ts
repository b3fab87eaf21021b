import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, jobIdOf, paintingReady, sendStylize, startTestBot, type TestBot } from "./bot-helpers.js";
import type { RecordedRequest } from "./discord-double/index.js";

/**
 * Re-roll means a new picture: on the loopback Discord double with the real engine (tiny weights, cpu
 * backend), two Re-rolls of one job paint two different images, both different from the original, and
 * the same photo, style and seed painted again gives the very same bytes.
 */

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot();
});
afterAll(() => t?.close());

/** The painting's PNG in a delivered result. */
function paintingOf(result: RecordedRequest): Buffer {
  const file = result.files.find((f) => /^stylized-\d+\.png$/.test(f.name));
  if (!file) throw new Error(`no painting among ${result.files.map((f) => f.name).join(", ")}`);
  return file.data;
}

/** Mean absolute difference of two PNGs' pixels (0..255). */
async function pixelDifference(a: Buffer, b: Buffer): Promise<number> {
  const [pa, pb] = await Promise.all([a, b].map((png) => sharp(png).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < pa!.length; i++) sum += Math.abs(pa![i]! - pb![i]!);
  return sum / pa!.length;
}

describe("Re-roll", () => {
  it("two Re-rolls give two new pictures; the same seed again gives identical bytes", async () => {
    const sent = await sendStylize(t.double, ALICE, { style: "starry-test", seed: 77 });
    const original = paintingOf(await paintingReady(t.double, sent.token));
    const messageId = t.double.originalResponse(sent.token)!.id;
    const jobId = jobIdOf(t.double, sent.token);
    const reroll = async () => {
      const click = t.double.clickButton({ customId: `reroll:${jobId}`, messageId, user: ALICE });
      return paintingOf(await paintingReady(t.double, click.token));
    };
    const first = await reroll();
    const second = await reroll();
    const differences = {
      "original vs first": await pixelDifference(original, first),
      "original vs second": await pixelDifference(original, second),
      "first vs second": await pixelDifference(first, second),
    };
    console.info("Re-roll mean |Δ| per channel:", differences);
    // Tens of levels, where a rounding difference would be under 1 (see docs/look.md for real weights).
    for (const difference of Object.values(differences)) expect(difference).toBeGreaterThan(5);

    const again = await sendStylize(t.double, ALICE, { style: "starry-test", seed: 77 });
    expect(paintingOf(await paintingReady(t.double, again.token)).equals(original)).toBe(true);
  });
});
