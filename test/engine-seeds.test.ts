import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { jitteredObjective, rollImage, rollTensor, type Shift } from "../src/engine/jitter.js";
import type { ScaleObjective } from "../src/engine/network.js";
import { gaussianNoise } from "../src/engine/random.js";
import { START_NOISE_STD, smoothNoise, startImage } from "../src/engine/start-image.js";
import { type StylizeRequest, stylize } from "../src/engine/stylize.js";
import { tensorToImage } from "../src/engine/tensor-image.js";
import type { RgbImage } from "../src/engine/types.js";
import { meanAbsDifference, patternImage, stripesImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

/**
 * Seeds that mean something: the start (photo + smooth seeded noise, or a given initImage) and the jitter
 * shifts depend on the seed, so another seed paints another picture and the same seed the same bytes.
 */

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
});

/** Mean |a[i+1] − a[i]| along rows of one channel, in units of the values' standard deviation. */
function neighbourStep(values: Float32Array, width: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i + 3 < values.length; i += 3) {
    if (((i / 3) % width) + 1 === width) continue;
    sum += Math.abs(values[i + 3]! - values[i]!);
    n++;
  }
  return sum / n;
}

describe("smooth seeded noise", () => {
  it("is reproducible, unit-spread, and smooth: neighbours differ 20× less than in white noise", () => {
    const a = smoothNoise(96, 64, 5);
    expect(a).toEqual(smoothNoise(96, 64, 5));
    expect(a).not.toEqual(smoothNoise(96, 64, 6));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(1e-4);
    expect(std).toBeCloseTo(1, 3);
    // White Gaussian noise: E|x − y| = 2/√π ≈ 1.13 per step; blobs a quarter of the picture across: ~0.05.
    const white = neighbourStep(gaussianNoise(96 * 64 * 3, 5), 96);
    expect(white).toBeGreaterThan(1);
    expect(neighbourStep(a, 96)).toBeLessThan(white / 20);
  });

  it("draws the same blobs at any size (relative to the picture, not in pixels)", () => {
    const small = smoothNoise(48, 32, 9);
    const large = smoothNoise(96, 64, 9);
    // Each small pixel against the large pixel at the same place in the picture.
    let agree = 0;
    let total = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 48; x++) {
        const s = small[(y * 48 + x) * 3]!;
        const l = large[(2 * y * 96 + 2 * x) * 3]!;
        agree += s * l;
        total += Math.sqrt(s * s * l * l);
      }
    }
    expect(agree / total).toBeGreaterThan(0.9);
  });
});

describe("the start image", () => {
  const photo = patternImage(40, 30);
  const start = async (options: Parameters<typeof startImage>[0], content: RgbImage = photo) => {
    const tensor = startImage(options, content);
    try {
      return await tensorToImage(tensor);
    } finally {
      tensor.dispose();
    }
  };
  const base = { init: "content", colorMode: "none", startNoise: START_NOISE_STD } as const;

  it("is the photo plus the seed's smooth noise: same seed identical, another seed elsewhere", async () => {
    const a = await start({ ...base, seed: 1 });
    expect(a).toEqual(await start({ ...base, seed: 1 }));
    const b = await start({ ...base, seed: 2 });
    // Each is the photo moved by about the noise's spread (less where clipping at 0 or 255 cuts it).
    const moved = meanAbsDifference(a, photo);
    expect(moved).toBeGreaterThan(0.5 * START_NOISE_STD);
    expect(moved).toBeLessThan(START_NOISE_STD);
    // Two independent seeds: about √2 × as far from each other as each from the photo.
    expect(meanAbsDifference(a, b)).toBeGreaterThan(moved);
  });

  it("startNoise 0 starts from the photo exactly", async () => {
    expect(await start({ ...base, seed: 1, startNoise: 0 })).toEqual(photo);
  });

  it("starts from initImage instead of the photo, resized to the scale's size", async () => {
    const init = stripesImage(80, 60, [250, 250, 250], [0, 0, 0]);
    const fromInit = await start({ ...base, seed: 3, initImage: init });
    const fromPhoto = await start({ ...base, seed: 3 });
    expect([fromInit.width, fromInit.height]).toEqual([40, 30]);
    // The same noise on another base: the difference is the bases' difference, not the noise's.
    const resizedInit = await start({ ...base, seed: 3, initImage: init }, photo);
    expect(resizedInit).toEqual(fromInit);
    expect(meanAbsDifference(fromInit, fromPhoto)).toBeGreaterThan(40);
  });

  it("from noise: grey plus seeded white noise, as before", async () => {
    const a = await start({ ...base, init: "noise", seed: 4 });
    expect(a).toEqual(await start({ ...base, init: "noise", seed: 4 }));
    expect(a).not.toEqual(await start({ ...base, init: "noise", seed: 5 }));
  });
});

describe("jitter", () => {
  it("rolls images and tensors alike, and rolling back restores them", async () => {
    const image = patternImage(7, 5);
    const shift: Shift = { dx: 3, dy: -2 };
    const rolled = rollImage(image, shift);
    // The pixel at (0, 0) lands at (3, 3) (−2 wraps to 3 on 5 rows).
    expect(Array.from(rolled.data.subarray((3 * 7 + 3) * 3, (3 * 7 + 3) * 3 + 3))).toEqual(
      Array.from(image.data.subarray(0, 3)),
    );
    expect(rollImage(rolled, { dx: -3, dy: 2 })).toEqual(image);
    const tensor = tf.tensor4d(Float32Array.from(image.data), [1, 5, 7, 3]);
    const rolledTensor = rollTensor(tensor, 3, -2);
    expect(Uint8Array.from(await rolledTensor.data())).toEqual(rolled.data);
    tf.dispose([tensor, rolledTensor]);
  });

  it("shows the objective a new seeded shift every N evaluations and moves the gradient back", async () => {
    const before = tf.memory().numTensors;
    const shifts: Shift[] = [];
    // An objective whose gradient is its input: rolled there and back, the caller gets its image again.
    const build = async (shift: Shift): Promise<ScaleObjective> => {
      shifts.push(shift);
      return {
        evaluate: async (image) => ({ terms: tf.tensor1d([0, 0, 0, 0]), grad: tf.clone(image) }),
        dispose: () => {},
      };
    };
    const objective = await jitteredObjective(build, { every: 3, period: 16, seed: 8 });
    const image = tf.tensor4d(Float32Array.from(patternImage(20, 18).data), [1, 18, 20, 3]);
    for (let i = 0; i < 9; i++) {
      const { terms, grad } = await objective.evaluate(image);
      expect(Array.from(await grad.data())).toEqual(Array.from(await image.data()));
      tf.dispose([terms, grad]);
    }
    objective.dispose();
    image.dispose();
    expect(shifts).toHaveLength(3);
    expect(new Set(shifts.map((s) => `${s.dx},${s.dy}`)).size).toBeGreaterThan(1);
    for (const s of shifts) for (const d of [s.dx, s.dy]) expect(d >= 0 && d < 16).toBe(true);
    // The same seed draws the same first shift.
    const first = shifts[0];
    shifts.length = 0;
    (await jitteredObjective(build, { every: 3, period: 16, seed: 8 })).dispose();
    expect(shifts).toEqual([first]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("stylize with seeds", () => {
  const weights = tinyVggWeights({ layers: 4, channels: [6, 8], seed: 3 });
  const content = patternImage(48, 36);
  const request = (seed: number, extra: Partial<StylizeRequest> = {}): StylizeRequest => ({
    content,
    styles: [{ image: stripesImage(40, 40), weight: 1 }],
    size: 48,
    contentLayers: ["relu2_1"],
    styleLayers: [
      { layer: "relu1_1", weight: 1 },
      { layer: "relu2_1", weight: 1 },
    ],
    scales: 2,
    stepsPerScale: 15,
    previewEverySteps: 0,
    previewEverySeconds: 0,
    seed,
    ...extra,
  });
  const paint = async (req: StylizeRequest) => {
    for await (const event of stylize(weights, req)) if (event.type === "done") return event.image;
    throw new Error("no result");
  };

  it("the same seed gives identical bytes; another seed a clearly different painting", async () => {
    const [a, again, b] = [await paint(request(42)), await paint(request(42)), await paint(request(7777))];
    expect(Buffer.from(a.data).equals(Buffer.from(again.data))).toBe(true);
    // "Clearly different": the two seeds' paintings differ by at least a third of what painting changed
    // in the photo (measured: see docs/look.md), not by a rounding error.
    const painted = meanAbsDifference(a, content);
    const between = meanAbsDifference(a, b);
    console.info(`seed 42 vs 7777: mean |Δ| ${between.toFixed(1)}; painting vs photo ${painted.toFixed(1)}`);
    expect(between).toBeGreaterThan(painted / 3);
  });

  it("starts from initImage when given: the result follows it, not the photo's start", async () => {
    const init = stripesImage(48, 36, [250, 250, 250], [0, 0, 0]);
    const fromInit = await paint(request(5, { initImage: init, stepsPerScale: 5 }));
    const fromPhoto = await paint(request(5, { stepsPerScale: 5 }));
    expect(meanAbsDifference(fromInit, init)).toBeLessThan(meanAbsDifference(fromPhoto, init));
  });

  it("refining a finished picture skips the scales it already covers", async () => {
    const plans = async (req: StylizeRequest) => {
      for await (const event of stylize(weights, req))
        if (event.type === "start") return event.plan.map((s) => s.width);
      throw new Error("no start");
    };
    expect(await plans(request(5, { stepsPerScale: 1 }))).toEqual([34, 48]);
    // A 34 px result carried to 48 px: only the 48 px scale runs.
    const result = stripesImage(34, 26, [250, 250, 250], [0, 0, 0]);
    expect(await plans(request(5, { stepsPerScale: 1, initImage: result }))).toEqual([48]);
  });

  it("without jitter the seed still moves the start (and the run stays reproducible)", async () => {
    const noJitter = (seed: number) => request(seed, { jitter: false, stepsPerScale: 8 });
    const a = await paint(noJitter(1));
    expect(Buffer.from(a.data).equals(Buffer.from((await paint(noJitter(1))).data))).toBe(true);
    expect(meanAbsDifference(a, await paint(noJitter(2)))).toBeGreaterThan(1);
  });
});
