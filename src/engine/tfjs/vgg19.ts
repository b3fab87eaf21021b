import * as tf from "@tensorflow/tfjs-core";
import type { LayerName, Pooling, VggWeights } from "../types.js";
import { CAFFE_MEAN_BGR, checkedConvs, downsamplingsOf, type VggConvSpec } from "../vgg19-spec.js";
import { type ConstantConv, constantConv, type GradientMode, gradientModeFor } from "./fast-grad.js";

export interface Vgg19Options {
  /** Feature layers to return, e.g. `relu1_1`, `relu4_2`, `conv5_1`. The network stops after the deepest. */
  readonly layers: readonly LayerName[];
  readonly pooling: Pooling;
  /** Defaults to what `gradientModeFor` picks for the active backend. */
  readonly gradients?: GradientMode;
}

interface ConvLayer {
  readonly spec: VggConvSpec;
  readonly conv: ConstantConv;
  readonly bias: tf.Tensor1D;
}

/**
 * The VGG19 convolution stack as a differentiable feature extractor: 3×3 convs with ReLU and 2×2
 * pooling, cut after the deepest requested layer. Kernels are uploaded once; call `dispose()` to free
 * them.
 */
export class Vgg19Features {
  readonly layers: readonly LayerName[];
  readonly pooling: Pooling;
  readonly gradients: GradientMode;
  private readonly convs: readonly ConvLayer[];

  constructor(weights: VggWeights, options: Vgg19Options) {
    if (options.layers.length === 0) throw new Error("Vgg19Features needs at least one layer");
    this.layers = [...new Set(options.layers)];
    this.pooling = options.pooling;
    this.gradients = options.gradients ?? gradientModeFor(tf.getBackend());
    const convs: ConvLayer[] = [];
    try {
      for (const { spec, weights: w } of checkedConvs(this.layers, weights)) {
        convs.push({
          spec,
          conv: constantConv(tf.tensor4d(w.kernel, [...w.kernelShape]), this.gradients),
          bias: tf.tensor1d(w.bias),
        });
      }
    } catch (error) {
      for (const c of convs) disposeLayer(c);
      throw error;
    }
    this.convs = convs;
  }

  /** How many times the input is halved before the deepest layer: its edge must be at least 2^this. */
  get downsamplings(): number {
    return downsamplingsOf(this.convs);
  }

  /**
   * The requested feature maps of `image`: [1, H, W, 3] RGB in 0..255 (Caffe preprocessing happens
   * here). Differentiable with respect to `image`; the caller owns the returned tensors.
   */
  features(image: tf.Tensor4D): Record<LayerName, tf.Tensor4D> {
    const smallest = Math.min(image.shape[1], image.shape[2]);
    if (smallest >> this.downsamplings < 1) {
      throw new Error(
        `a ${image.shape[2]}×${image.shape[1]} image is too small for ${this.layers.join(", ")}: ` +
          `each edge must be at least ${1 << this.downsamplings} px`,
      );
    }
    return tf.tidy(() => {
      const wanted = new Set(this.layers);
      const out: Record<LayerName, tf.Tensor4D> = {};
      let x: tf.Tensor4D = tf.sub(tf.reverse(image, -1), CAFFE_MEAN_BGR);
      let block = 1;
      for (const { spec, conv, bias } of this.convs) {
        if (spec.block !== block) {
          x = this.pooling === "max" ? tf.maxPool(x, 2, 2, "valid") : tf.avgPool(x, 2, 2, "valid");
          block = spec.block;
        }
        const suffix = `${spec.block}_${spec.index}`;
        const pre: tf.Tensor4D = tf.add(conv.apply(x), bias);
        if (wanted.has(`conv${suffix}`)) out[`conv${suffix}`] = pre;
        x = tf.relu(pre);
        if (wanted.has(`relu${suffix}`)) out[`relu${suffix}`] = x;
      }
      return out;
    });
  }

  dispose(): void {
    for (const c of this.convs) disposeLayer(c);
  }
}

function disposeLayer(layer: ConvLayer): void {
  layer.conv.dispose();
  layer.bias.dispose();
}
