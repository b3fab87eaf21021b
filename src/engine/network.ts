import type * as tf from "@tensorflow/tfjs-core";
import type { RgbImage, StyleSource } from "./types.js";

/**
 * The style-transfer objective behind one interface, whatever computes it: tfjs with autodiff
 * (./tfjs/tfjs-network.ts) or onnxruntime with the backward pass written as ops (./onnx/ort-network.ts). The
 * optimisers and the multi-scale loop (./stylize.ts) see only this; ./create-network.ts picks one.
 */

/** The objective at one scale, its targets fixed. */
export interface ScaleObjective {
  /** Loss terms [total, content, style, tv] and the gradient of the total at `image`; the caller owns both. */
  evaluate(image: tf.Tensor4D): Promise<{ terms: tf.Tensor1D; grad: tf.Tensor4D }>;
  dispose(): void;
}

export interface StyleNetwork {
  /** How many times the input is halved before the deepest layer: each edge must be at least 2^this. */
  readonly downsamplings: number;
  /**
   * The objective for images of `content`'s size: content features of `content` and the weighted blend of
   * the styles' Gram matrices (each style image at its own size; weights need not sum to 1).
   */
  objective(content: RgbImage, styles: readonly StyleSource[]): Promise<ScaleObjective>;
  dispose(): void;
}
