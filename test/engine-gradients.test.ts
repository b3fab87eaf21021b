import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import "../src/engine/tfjs/gradients.js";

/**
 * The gradients registered for tfjs-core (which ships none in its Node build), each against central
 * differences of a random scalar projection, on small tensors with broadcasting and attributes.
 */

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
});

function values(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 2 + 0.3),
    shape,
  );
}

/** Max relative error of tf.grad of sum(f(x) · w) against central differences in x. */
function check(f: (x: tf.Tensor) => tf.Tensor, shape: number[]): number {
  return tf.tidy(() => {
    const x = values(shape, 1);
    const w = values(f(x).shape, 2);
    const loss = (v: tf.Tensor) => tf.sum(tf.mul(f(v), w));
    const analytic = tf.grad(loss)(x).dataSync();
    const base = x.dataSync();
    const h = 1e-2;
    let worst = 0;
    for (let i = 0; i < base.length; i++) {
      const at = (d: number) => {
        const shifted = base.slice();
        shifted[i]! += d;
        return loss(tf.tensor(shifted, shape)).dataSync()[0]!;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - analytic[i]!) / Math.max(1, Math.abs(numeric)));
    }
    return worst;
  });
}

describe("registered gradients", () => {
  const cases: [string, (x: tf.Tensor) => tf.Tensor, number[]][] = [
    ["add with broadcasting", (x) => tf.add(x, tf.reshape(tf.sum(x, 0), [1, 3])), [2, 3]],
    ["sub, both sides broadcast", (x) => tf.sub(tf.reshape(tf.mean(x, 1), [2, 1]), x), [2, 3]],
    ["mul", (x) => tf.mul(x, tf.reverse(x, 1)), [2, 3]],
    ["squared difference", (x) => tf.squaredDifference(x, tf.reverse(x, 0)), [2, 3]],
    ["square and relu", (x) => tf.relu(tf.sub(tf.square(x), 2)), [2, 3]],
    ["sum over an axis, keepDims", (x) => tf.sum(x, 1, true), [2, 3, 2]],
    ["mean over axes", (x) => tf.mean(x, [0, 2]), [2, 3, 2]],
    ["slice with -1 sizes", (x) => tf.slice(x, [0, 1], [-1, 2]), [3, 4]],
    ["reshape and addN", (x) => tf.addN([tf.reshape(x, [6]), tf.reshape(tf.square(x), [6])]), [2, 3]],
    ["max pool", (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, "valid"), [1, 4, 5, 2]],
    ["avg pool (with its cast)", (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, "valid"), [1, 4, 5, 2]],
    [
      "conv2d input",
      (x) => tf.conv2d(x as tf.Tensor4D, values([3, 3, 2, 3], 5) as tf.Tensor4D, 1, "same"),
      [1, 4, 4, 2],
    ],
    ...(
      [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const
    ).map(([ta, tb]): [string, (x: tf.Tensor) => tf.Tensor, number[]] => [
      `matMul transposeA=${ta} transposeB=${tb}`,
      (x) => tf.matMul(x as tf.Tensor2D, tf.square(x) as tf.Tensor2D, ta, !tb),
      [3, 3],
    ]),
  ];
  for (const [name, f, shape] of cases) {
    it(name, () => {
      expect(check(f, shape)).toBeLessThan(2e-2);
    });
  }
});
