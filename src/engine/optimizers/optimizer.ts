import * as tf from "@tensorflow/tfjs-core";
import type { Objective } from "../losses.js";
import type { LossBreakdown } from "../types.js";

/** An optimiser that owns the image being stylised: [1, H, W, 3], RGB, kept within 0..255. */
export interface ImageOptimizer {
  /** One iteration; resolves to the losses it measured. */
  step(): Promise<LossBreakdown>;
  /** The image to show or carry to the next scale; the caller owns (and disposes) the returned tensor. */
  output(): tf.Tensor4D;
  dispose(): void;
}

export const PIXEL_MIN = 0;
export const PIXEL_MAX = 255;

/** The loss terms [total, content, style, tv] and the gradient of the total at `image`; caller owns both. */
export function lossAndGradient(
  objective: Objective,
  image: tf.Tensor4D,
): { terms: tf.Tensor1D; grad: tf.Tensor4D } {
  let terms: tf.Tensor1D | undefined;
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => {
    const t = objective(x as tf.Tensor4D);
    // Kept past valueAndGrad's internal tidy; the caller disposes it.
    terms = tf.keep(tf.stack([t.total, t.content, t.style, t.tv]) as tf.Tensor1D);
    return t.total;
  })(image);
  value.dispose();
  return { terms: terms!, grad: grad as tf.Tensor4D };
}

/** Downloads (without blocking a GPU backend) and disposes the terms from `lossAndGradient`. */
export async function readLosses(terms: tf.Tensor1D): Promise<LossBreakdown> {
  const [total, content, style, tv] = await terms.data();
  terms.dispose();
  return { total: total!, content: content!, style: style!, tv: tv! };
}

/** Replaces `old` by `next`, disposing `old`: for optimiser state updated once per step. */
export function swap<T extends tf.Tensor>(old: T, next: T): T {
  if (old !== next) old.dispose();
  return next;
}
