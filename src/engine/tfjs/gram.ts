import * as tf from "@tensorflow/tfjs-core";
import { styleShares } from "../objective.js";
import { type GradientMode, gramProduct } from "./fast-grad.js";

/**
 * The Gram matrix of a feature map [1, H, W, C] divided by C·H·W (as jcjohnson/neural-style does), so that
 * it does not grow with the image size: style targets computed from a style image of another size, or at
 * another scale, stay comparable with the Gram matrix of the image being optimised.
 */
export function gramMatrix(features: tf.Tensor4D, mode: GradientMode): tf.Tensor2D {
  const [batch, height, width, channels] = features.shape;
  if (batch !== 1) throw new Error(`gramMatrix expects a batch of 1, got ${batch}`);
  return tf.tidy(() =>
    tf.mul(
      gramProduct(tf.reshape(features, [height * width, channels]), mode),
      1 / (channels * height * width),
    ),
  );
}

/** Weighted sum of Gram matrices (one per style image); weights are normalised to sum to 1. */
export function blendGrams(grams: readonly { gram: tf.Tensor2D; weight: number }[]): tf.Tensor2D {
  const shares = styleShares(grams.map((g) => g.weight));
  return tf.tidy(() => tf.addN(grams.map((g, i) => tf.mul(g.gram, shares[i]!))) as tf.Tensor2D);
}
