import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { Adam } from "../src/engine/optimizers/adam.js";
import { Lbfgs } from "../src/engine/optimizers/lbfgs.js";
import type { ImageOptimizer } from "../src/engine/optimizers/optimizer.js";
import { imageToTensor } from "../src/engine/tensor-image.js";
import {
  computeTargets,
  disposeTargets,
  type Objective,
  styleTransferObjective,
  type Targets,
} from "../src/engine/tfjs/losses.js";
import { autodiff } from "../src/engine/tfjs/tfjs-network.js";
import { Vgg19Features } from "../src/engine/tfjs/vgg19.js";
import { patternImage, stripesImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

let net: Vgg19Features;
let targets: Targets;
let objective: Objective;
let start: tf.Tensor4D;

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
  net = new Vgg19Features(tinyVggWeights({ layers: 3, channels: [8] }), {
    layers: ["relu1_1", "relu2_1"],
    pooling: "avg",
  });
  const spec = {
    contentWeight: 1,
    styleWeight: 100,
    tvWeight: 0.01,
    contentLayers: ["relu2_1"],
    styleLayers: [
      { layer: "relu1_1", weight: 1 },
      { layer: "relu2_1", weight: 1 },
    ],
  };
  const content = imageToTensor(patternImage(24, 20));
  const style = imageToTensor(stripesImage(24, 24));
  targets = computeTargets(net, spec, content, [{ image: style, weight: 1 }]);
  objective = styleTransferObjective(net, spec, targets);
  start = content;
  style.dispose();
});

afterAll(() => {
  disposeTargets(targets);
  net.dispose();
  start.dispose();
});

function totalAt(image: tf.Tensor4D): number {
  return tf.tidy(() => objective(image).total.dataSync()[0]!);
}

/** Runs `steps` steps; checks the tensor count stays flat from the second step on and returns to start. */
async function run(make: () => ImageOptimizer, steps: number) {
  const before = tf.memory().numTensors;
  const optimizer = make();
  const counts: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    losses.push((await optimizer.step()).total);
    counts.push(tf.memory().numTensors);
  }
  const output = optimizer.output();
  const final = totalAt(output);
  const [min, max] = tf.tidy(() => [tf.min(output).dataSync()[0]!, tf.max(output).dataSync()[0]!]);
  output.dispose();
  optimizer.dispose();
  return { losses, final, min, max, counts, leaked: tf.memory().numTensors - before };
}

describe("optimisers", () => {
  it("Adam lowers the total loss substantially, stays in 0..255 and leaks nothing", async () => {
    const initial = totalAt(start);
    const r = await run(
      () => new Adam(autodiff(objective), start, { learningRate: 4, averageDecay: 0.8 }),
      40,
    );
    expect(r.final).toBeLessThan(initial * 0.3);
    expect(r.min).toBeGreaterThanOrEqual(0);
    expect(r.max).toBeLessThanOrEqual(255);
    expect(new Set(r.counts).size).toBe(1);
    expect(r.leaked).toBe(0);
  });

  it("L-BFGS lowers the total loss substantially, with a bounded history that is freed", async () => {
    const initial = totalAt(start);
    const r = await run(() => new Lbfgs(autodiff(objective), start, { historySize: 3 }), 20);
    expect(r.final).toBeLessThan(initial * 0.3);
    expect(r.losses.at(-1)).toBeCloseTo(r.final, 0);
    expect(r.min).toBeGreaterThanOrEqual(0);
    expect(r.max).toBeLessThanOrEqual(255);
    // The history fills up over the first three steps, then the count stays flat.
    expect(new Set(r.counts.slice(4)).size).toBe(1);
    expect(r.leaked).toBe(0);
  });

  it("L-BFGS's first step, with no curvature known, moves no pixel by more than 8 levels", async () => {
    const lbfgs = new Lbfgs(autodiff(objective), start);
    await lbfgs.step();
    const moved = lbfgs.output();
    const largest = tf.tidy(() => tf.max(tf.abs(tf.sub(moved, start))).dataSync()[0]!);
    expect(largest).toBeGreaterThan(1);
    expect(largest).toBeLessThanOrEqual(8 + 1e-3);
    moved.dispose();
    lbfgs.dispose();
  });

  it("L-BFGS never takes an uphill step: when its curvature leads nowhere, it searches steepest descent", async () => {
    // A kinked objective, Σ|x − 100|, whose curvature pairs mislead the quasi-Newton direction, and one
    // halving per step, so the line search runs out often (before: two uphill steps in 40, 1031 and 282).
    const kinked = {
      evaluate: async (image: tf.Tensor4D) =>
        tf.tidy(() => {
          const off = tf.sub(image, 100);
          const total = tf.sum(tf.abs(off));
          return {
            terms: tf.stack([total, total, tf.scalar(0), tf.scalar(0)]) as tf.Tensor1D,
            grad: tf.sign(off) as tf.Tensor4D,
          };
        }),
      dispose: () => {},
    };
    const lbfgs = new Lbfgs(kinked, start, { maxBacktracks: 1 });
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) losses.push((await lbfgs.step()).total);
    lbfgs.dispose();
    const rises = losses.filter((loss, i) => i > 0 && loss > losses[i - 1]!);
    expect(rises).toEqual([]);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
  });

  it("L-BFGS beats Adam for the same number of evaluations on this smooth problem", async () => {
    const adam = await run(
      () => new Adam(autodiff(objective), start, { learningRate: 4, averageDecay: 0 }),
      15,
    );
    const lbfgs = await run(() => new Lbfgs(autodiff(objective), start), 14);
    expect(lbfgs.final).toBeLessThan(adam.final);
  });

  it("Adam's output is the bias-corrected moving average of its iterates", async () => {
    const adam = new Adam(autodiff(objective), start, { learningRate: 4, averageDecay: 0.9 });
    const atStart = adam.output();
    // Before any step the average is exactly the initial image (bias correction removes the zero start).
    expect(tf.max(tf.abs(tf.sub(atStart, start))).dataSync()[0]).toBeLessThan(1e-3);
    await adam.step();
    await adam.step();
    const averaged = adam.output();
    const last = (adam as unknown as { x: tf.Tensor4D }).x;
    // After two steps it lies strictly between the start and the latest iterate.
    const distance = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    expect(distance(averaged, start)).toBeGreaterThan(0);
    expect(distance(averaged, last)).toBeGreaterThan(0);
    expect(distance(averaged, start)).toBeLessThan(distance(last, start));
    tf.dispose([atStart, averaged]);
    adam.dispose();
  });
});
