/** Small synthetic images shared by the engine tests (tiny weights come from fixtures/tiny-vgg.ts). */

import * as tf from "@tensorflow/tfjs-core";
import { imageToTensor } from "../src/engine/tensor-image.js";
import type { GradientMode } from "../src/engine/tfjs/fast-grad.js";
import { computeTargets, disposeTargets, styleTransferObjective } from "../src/engine/tfjs/losses.js";
import { Vgg19Features } from "../src/engine/tfjs/vgg19.js";
import type { RgbImage, VggWeights } from "../src/engine/types.js";

/** A smooth colourful test pattern with some texture, deterministic for a given seed. */
export function patternImage(width: number, height: number, seed = 0): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 128 + 100 * Math.sin((x + seed) / 5);
      data[i + 1] = 128 + 100 * Math.cos((y - seed) / 7);
      data[i + 2] = 128 + 90 * Math.sin((x + y + 3 * seed) / 3);
    }
  }
  return { data, width, height };
}

/** Diagonal stripes in two colours: a strong, simple "style". */
export function stripesImage(
  width: number,
  height: number,
  a: readonly number[] = [230, 200, 40],
  b: readonly number[] = [30, 40, 160],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set((x + y) % 6 < 3 ? a : b, (y * width + x) * 3);
  }
  return { data, width, height };
}

/** Largest absolute difference relative to the largest magnitude of `expected`. */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(
    () => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]! / tf.max(tf.abs(expected)).dataSync()[0]!,
  );
}

/**
 * The gradient of a full style-transfer objective (content, three style layers, TV) with respect to the
 * image, through `weights` (at least 5 convs), computed with the given gradient formulation.
 */
export function objectiveGradient(
  weights: VggWeights,
  mode: GradientMode,
  pooling: "max" | "avg",
): tf.Tensor4D {
  const spec = {
    contentWeight: 1,
    styleWeight: 10,
    tvWeight: 0.1,
    contentLayers: ["relu2_2"],
    styleLayers: ["relu1_1", "relu2_1", "relu3_1"].map((layer) => ({ layer, weight: 1 })),
  };
  const net = new Vgg19Features(weights, {
    layers: ["relu1_1", "relu2_1", "relu2_2", "relu3_1"],
    pooling,
    gradients: mode,
  });
  const content = imageToTensor(patternImage(20, 16));
  const style = imageToTensor(stripesImage(24, 24));
  const start = imageToTensor(patternImage(20, 16, 3));
  const targets = computeTargets(net, spec, content, [{ image: style, weight: 1 }]);
  const objective = styleTransferObjective(net, spec, targets);
  const grad = tf.grad((x) => objective(x as tf.Tensor4D).total)(start) as tf.Tensor4D;
  tf.dispose([content, style, start]);
  disposeTargets(targets);
  net.dispose();
  return grad;
}

/** Mean absolute difference of two images of the same size, over every channel (0..255 scale). */
export function meanAbsDifference(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error("images differ in size");
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}
