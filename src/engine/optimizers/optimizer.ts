import type * as tf from "@tensorflow/tfjs-core";
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

/** Downloads (without blocking a GPU backend) and disposes the terms from `ScaleObjective.evaluate`. */
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
