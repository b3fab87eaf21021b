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
 * Honest progress when scales end by the stopping rule, as members' runs do: the balanced preset as it
 * ships (L-BFGS, at most 150 steps per scale, a scale ends when its loss falls by less than 0.1% per step,
 * which on the reference weights is after 40–80 steps), on the real VGG19 weights (blocks 1–3) and the
 * production CPU path. After one painting taught the bot how many steps each scale takes, the next one's
 * percentage never goes backwards and stays within 15% of the share of its run that has passed.
 */

if (!hasReference)
  warnSkipping(
    "the honest-progress test with the stopping rule",
    `no reference weights at ${REFERENCE_MODEL}`,
  );

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
    // The shipped schedule and stopping rule (the test bot's short fixed schedule undone); blocks 1–3 only.
    engine: {
      optimizer: "lbfgs",
      scales: undefined,
      stepsPerScale: undefined,
      contentLayers: ["relu3_1"],
      styleLayers: ["relu1_1", "relu2_1", "relu3_1"].map((layer) => ({ layer, weight: 1 })),
    },
  });
}, 120_000);
afterAll(() => t?.close());

describe.skipIf(!hasReference)(
  "honest progress with the stopping rule (real weights)",
  { timeout: 300_000 },
  () => {
    it("after a first painting, never goes backwards and stays within 15% of the elapsed share at each edit", async () => {
      // A first painting of the same kind (balanced, from a photo, at the size) teaches the steps each scale
      // takes and what a step costs; another photo and painting follow.
      await paintingReady(
        t.double,
        (await sendStylize(t.double, BOB, { style: "starry-test", size: 160 }, [60, 80])).token,
      );
      const sent = await sendStylize(t.double, ALICE, { style: "wave-test", size: 160 });
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
        `progress shown / elapsed share of the run (${(runMs / 1000).toFixed(1)} s):`,
        shown.map((e, i) => `${e.percent}/${Math.round(elapsed[i]! * 100)}`).join(" "),
      );
      const worst = Math.max(...shown.map((e, i) => Math.abs(e.percent / 100 - elapsed[i]!)));
      expect(worst).toBeLessThanOrEqual(0.15);
    });
  },
);
