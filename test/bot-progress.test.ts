import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  descriptionOf,
  originalEdits,
  paintingReady,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";
import { hasReference, REFERENCE_MODEL, warnSkipping } from "./helpers/reference.js";

/**
 * Honest progress on the loopback double, with the real VGG19 weights (blocks 1–3) on the production CPU
 * path (onnxruntime), where a step's cost grows with its pixels as it does for members: the percentage
 * never goes backwards and stays within 15% of the share of the run's time that has passed.
 */

if (!hasReference) warnSkipping("the honest-progress test", `no reference weights at ${REFERENCE_MODEL}`);

let t: TestBot;
beforeAll(async () => {
  if (!hasReference) return;
  t = await startTestBot({
    env: {
      STYLIZE_BACKEND: "onnxruntime",
      STYLIZE_WEIGHTS: REFERENCE_MODEL,
      STYLIZE_DEFAULT_SIZE: "128",
      STYLIZE_MAX_SIZE: "256",
      STYLIZE_PROGRESS_INTERVAL_MS: "250",
    },
    // Blocks 1–3 only: the layers the reference weights have.
    engine: {
      scales: 3,
      stepsPerScale: 30,
      contentLayers: ["relu3_1"],
      styleLayers: ["relu1_1", "relu2_1", "relu3_1"].map((layer) => ({ layer, weight: 1 })),
    },
  });
}, 120_000);
afterAll(() => t?.close());

describe.skipIf(!hasReference)("honest progress (real weights)", { timeout: 240_000 }, () => {
  it("never goes backwards and stays within 15% of the elapsed share of the run at each edit", async () => {
    // The engine painted once already, as on a bot that has been up a while: its step costs are known.
    await paintingReady(
      t.double,
      (await sendStylize(t.double, BOB, { style: "starry-test", size: 96 })).token,
    );
    const sent = await sendStylize(t.double, ALICE, { style: "starry-test", size: 160 });
    const done = await paintingReady(t.double, sent.token);
    const edits = originalEdits(t.double, sent.token).filter((r) => r.status < 300);
    const started = edits.find((r) => descriptionOf(r).startsWith("Starting"))!;
    const shown = edits
      .map((r) => ({ at: r.at, percent: Number(/(\d+)%`/.exec(descriptionOf(r))?.[1] ?? Number.NaN) }))
      .filter((e) => !Number.isNaN(e.percent) && e.at < done.at);
    expect(shown.length).toBeGreaterThanOrEqual(5);
    const percents = shown.map((e) => e.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    const runMs = done.at - started.at;
    const elapsed = shown.map((e) => (e.at - started.at) / runMs);
    console.info(
      "progress shown / elapsed share of the run:",
      shown.map((e, i) => `${e.percent}/${Math.round(elapsed[i]! * 100)}`).join(" "),
    );
    const worst = Math.max(...shown.map((e, i) => Math.abs(e.percent / 100 - elapsed[i]!)));
    expect(worst).toBeLessThanOrEqual(0.15);
  });
});
