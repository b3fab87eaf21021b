import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { gaussianNoise } from "../src/engine/random.js";
import { constantConv, gradientModeFor, gramProduct } from "../src/engine/tfjs/fast-grad.js";
import { objectiveGradient, relativeError } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
});

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    gaussianNoise(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

describe("fast gradients", () => {
  it("chooses the fast formulation on wasm and cpu only", () => {
    expect(gradientModeFor("wasm")).toBe("fast");
    expect(gradientModeFor("cpu")).toBe("fast");
    expect(gradientModeFor("tensorflow")).toBe("plain");
    expect(gradientModeFor("webgl")).toBe("plain");
  });

  it("conv2d input gradient equals tf.conv2d's, borders included", () => {
    tf.tidy(() => {
      const x = randomTensor([1, 9, 7, 5], 1) as tf.Tensor4D;
      const kernel = randomTensor([3, 3, 5, 6], 2) as tf.Tensor4D;
      const dy = randomTensor([1, 9, 7, 6], 3);
      const fast = constantConv(tf.clone(kernel), "fast");
      const loss = (f: (x: tf.Tensor4D) => tf.Tensor4D) => (v: tf.Tensor) =>
        tf.sum(tf.mul(f(v as tf.Tensor4D), dy));
      const expected = tf.grad(loss((v) => tf.conv2d(v, kernel, 1, "same")))(x);
      const actual = tf.grad(loss(fast.apply))(x);
      expect(relativeError(fast.apply(x), tf.conv2d(x, kernel, 1, "same"))).toBe(0);
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
      fast.dispose();
    });
  });

  it("Gram product and its gradient equal matMul with a transposed operand", () => {
    tf.tidy(() => {
      const f = randomTensor([30, 6], 4) as tf.Tensor2D;
      const dg = randomTensor([6, 6], 5); // not symmetric, to test both halves of the gradient
      const loss = (mode: "fast" | "plain") => (v: tf.Tensor) =>
        tf.sum(tf.mul(gramProduct(v as tf.Tensor2D, mode), dg));
      expect(relativeError(gramProduct(f, "fast"), tf.matMul(f, f, true, false))).toBeLessThan(1e-6);
      expect(relativeError(tf.grad(loss("fast"))(f), tf.grad(loss("plain"))(f))).toBeLessThan(1e-5);
    });
  });

  it("the whole style-transfer objective has the same gradient through a small network", () => {
    const weights = tinyVggWeights({ layers: 5, channels: [6] }); // up to block3_conv1: two poolings
    for (const pooling of ["max", "avg"] as const) {
      const fast = objectiveGradient(weights, "fast", pooling);
      const plain = objectiveGradient(weights, "plain", pooling);
      expect(relativeError(fast, plain)).toBeLessThan(1e-4);
      tf.dispose([fast, plain]);
    }
  });
});
