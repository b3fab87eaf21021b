import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { toYiq } from "../src/engine/color.js";
import { PLATEAU_WINDOW } from "../src/engine/schedule.js";
import { resolveOptions, type StylizeRequest, stylize } from "../src/engine/stylize.js";
import type { RgbImage, StylizeEvent } from "../src/engine/types.js";
import { patternImage, stripesImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

const weights = tinyVggWeights({ layers: 4, channels: [6, 8], seed: 3 });

/** A shallow configuration so that runs on the tiny network take milliseconds per step. */
function request(overrides: Partial<StylizeRequest> = {}): StylizeRequest {
  return {
    content: patternImage(48, 36),
    styles: [{ image: stripesImage(40, 40), weight: 1 }],
    size: 32,
    contentLayers: ["relu2_1"],
    styleLayers: [
      { layer: "relu1_1", weight: 1 },
      { layer: "relu2_1", weight: 1 },
    ],
    scales: 1,
    stepsPerScale: 6,
    previewEverySteps: 0,
    previewEverySeconds: 0,
    seed: 7,
    ...overrides,
  };
}

async function collect(req: StylizeRequest, signal?: AbortSignal, onEvent?: (e: StylizeEvent) => void) {
  const events: StylizeEvent[] = [];
  for await (const event of stylize(weights, req, signal)) {
    events.push(event);
    onEvent?.(event);
  }
  return events;
}

function done(events: StylizeEvent[]) {
  const last = events.at(-1)!;
  if (last.type !== "done") throw new Error(`last event is ${last.type}`);
  return last;
}

function meanAbsDiff(a: Float32Array, b: Float32Array, channels: number[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 3) {
    for (const c of channels) {
      sum += Math.abs(a[i + c]! - b[i + c]!);
      n++;
    }
  }
  return sum / n;
}

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
});

describe("stylize", () => {
  it("runs coarse to fine and ends at exactly the requested size, for a non-square content", async () => {
    const events = await collect(request({ size: 45, scales: 3, stepsPerScale: 2, init: "noise" }));
    const start = events[0]!;
    expect(start.type).toBe("start");
    if (start.type !== "start") return;
    // Ladder 23 → 32 → 45 (×√2 each), aspect 4:3 kept.
    expect(start.plan).toEqual([
      { width: 23, height: 17, steps: 2 },
      { width: 32, height: 24, steps: 2 },
      { width: 45, height: 34, steps: 2 },
    ]);
    expect(start.backend).toBe("cpu");
    expect(start.totalSteps).toBe(6);
    const steps = events.filter((e) => e.type === "step");
    expect(steps.map((e) => [e.scale, e.step, e.overallStep])).toEqual([
      [0, 1, 1],
      [0, 2, 2],
      [1, 1, 3],
      [1, 2, 4],
      [2, 1, 5],
      [2, 2, 6],
    ]);
    for (const s of steps) {
      const sum = s.losses.content + s.losses.style + s.losses.tv;
      expect(Math.abs(s.losses.total - sum) / sum).toBeLessThan(1e-6);
      expect(s.etaMs).toBeGreaterThanOrEqual(0);
    }
    expect(steps.at(-1)!.etaMs).toBe(0);
    const result = done(events);
    expect([result.image.width, result.image.height]).toEqual([45, 34]);
    expect(result.image.data.length).toBe(45 * 34 * 3);
    expect(result.seed).toBe(7);
  });

  it("keeps the tensor count flat across steps and returns it to the start after the run", async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await collect(request({ stepsPerScale: 8, optimizer: "adam" }), undefined, (e) => {
      if (e.type === "step") counts.push(tf.memory().numTensors);
    });
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);

    const lbfgsCounts: number[] = [];
    await collect(request({ stepsPerScale: 16, optimizer: "lbfgs", scales: 2, size: 45 }), undefined, (e) => {
      if (e.type === "step" && e.step > 12) lbfgsCounts.push(tf.memory().numTensors);
    });
    expect(new Set(lbfgsCounts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ends a scale once its loss flattens (tolerance), and runs every step without one", async () => {
    const steps = async (tolerance: number) =>
      (await collect(request({ scales: 2, size: 45, stepsPerScale: 20, tolerance }))).filter(
        (e) => e.type === "step",
      );
    // Any improvement under half the loss per step counts as flat: each scale stops after its first window.
    const early = await steps(0.5);
    expect(early.filter((e) => e.type === "step" && e.scale === 0)).toHaveLength(PLATEAU_WINDOW + 1);
    expect(early.filter((e) => e.type === "step" && e.scale === 1)).toHaveLength(PLATEAU_WINDOW + 1);
    expect(await steps(0)).toHaveLength(40);
  });

  it("stops within one step when aborted, throws the abort reason and frees every tensor", async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const seen: StylizeEvent[] = [];
    const reason = new Error("user cancelled");
    const run = collect(request({ stepsPerScale: 50, scales: 2, size: 45 }), controller.signal, (e) => {
      seen.push(e);
      if (e.type === "step" && e.overallStep === 3) controller.abort(reason);
    });
    await expect(run).rejects.toBe(reason);
    expect(seen.filter((e) => e.type === "step")).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("an abort from a timer interrupts a running loop (the generator yields to the event loop)", async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let steps = 0;
    setTimeout(() => controller.abort(), 30);
    const run = collect(request({ stepsPerScale: 100_000 }), controller.signal, (e) => {
      if (e.type === "step") steps++;
    });
    const error = await run.catch((e: unknown) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(100_000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("frees everything when the consumer stops iterating early", async () => {
    const before = tf.memory().numTensors;
    for await (const event of stylize(weights, request())) {
      if (event.type === "step") break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("is reproducible from the seed on the cpu backend, and another seed gives another image", async () => {
    const image = async (seed: number) => done(await collect(request({ init: "noise", seed }))).image.data;
    const [a, b, c] = [await image(11), await image(11), await image(12)];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it("emits previews every N steps, at the current scale's size", async () => {
    const events = await collect(request({ size: 45, scales: 2, stepsPerScale: 5, previewEverySteps: 3 }));
    const previews = events.filter((e) => e.type === "preview");
    expect(previews.map((p) => p.overallStep)).toEqual([3, 6, 9]);
    expect(previews.map((p) => [p.image.width, p.image.height])).toEqual([
      [32, 24],
      [45, 34],
      [45, 34],
    ]);
    // Each preview follows the step event it belongs to.
    const index = events.findIndex((e) => e.type === "preview");
    expect(events[index - 1]).toMatchObject({ type: "step", overallStep: 3 });
  });

  it("emits previews on a time cadence too", async () => {
    const events = await collect(request({ stepsPerScale: 4, previewEverySeconds: 1e-6 }));
    expect(events.filter((e) => e.type === "preview")).toHaveLength(4);
    // The first step's preview comes at once, the next not before the interval.
    const first = await collect(request({ stepsPerScale: 4, previewEverySeconds: 3600 }));
    expect(
      first.filter((e) => e.type === "preview").map((e) => e.type === "preview" && e.overallStep),
    ).toEqual([1]);
  });

  it("luminance mode keeps the content's chroma; without it the style's colours come through", async () => {
    const content = patternImage(32, 32);
    const style = stripesImage(32, 32, [250, 30, 30], [20, 220, 40]);
    const run = async (colorMode: "none" | "luminance") =>
      done(
        await collect(
          request({
            content,
            styles: [{ image: style, weight: 1 }],
            colorMode,
            stepsPerScale: 30,
            styleWeight: 1e4,
          }),
        ),
      ).image;
    const chromaDistance = (image: RgbImage) => meanAbsDiff(toYiq(image), toYiq(content), [1, 2]);
    const plain = chromaDistance(await run("none"));
    const preserved = chromaDistance(await run("luminance"));
    expect(plain).toBeGreaterThan(5);
    // Only rounding to 8 bits (and clamping of out-of-gamut colours) separates the chroma from the content's.
    expect(preserved).toBeLessThan(3);
    expect(preserved).toBeLessThan(plain / 10);
  });

  it("fails before any event when the weights lack a needed layer", async () => {
    const run = collect(request({ contentLayers: ["relu4_2"] }));
    await expect(run).rejects.toThrow(/lack block3_conv1, needed for relu4_2/);
  });

  it("validates options with clear errors", () => {
    expect(() => resolveOptions(request({ size: 10 }))).toThrow(
      /size must be a whole number from 32 to 4096; got 10/,
    );
    expect(() => resolveOptions(request({ tvWeight: -1 }))).toThrow(/tvWeight must be a finite number ≥ 0/);
    expect(() => resolveOptions(request({ styleLayers: [{ layer: "relu6_1", weight: 1 }] }))).toThrow(
      /unknown VGG19 layer "relu6_1"/,
    );
    expect(() => resolveOptions(request({ styles: [] }))).toThrow(/at least one style image/);
    expect(() => resolveOptions(request({ strength: 2 }))).toThrow(/strength must be from 0 to 1/);
  });
});
