import * as tf from "@tensorflow/tfjs-core";
import { type ConstantConv, constantConv, type GradientMode, gradientModeFor } from "./fast-grad.js";
import type { ConvWeights, LayerName, Pooling, VggWeights } from "./types.js";
import { kerasConvName, VGG19_CONVS, type VggConvSpec } from "./vgg19-spec.js";

/** ImageNet mean in BGR order, the preprocessing the Caffe / Keras VGG19 weights were trained with. */
export const CAFFE_MEAN_BGR: readonly number[] = [103.939, 116.779, 123.68];

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

/** The conv layers from block1_conv1 to the deepest one `layers` need; throws if `weights` lack one. */
/**
 * The convs from block1_conv1 to the deepest one `layers` need, each with its weights checked against the
 * previous layer's output; throws, naming the layer, if the weights lack one or do not fit.
 */
export function checkedConvs(
  layers: readonly LayerName[],
  weights: VggWeights,
): { spec: VggConvSpec; weights: ConvWeights }[] {
  let channels = 3;
  return convsUpTo(layers, weights).map((spec) => {
    const checked = checkedWeights(weights, spec.name, channels);
    channels = checked.kernelShape[3];
    return { spec, weights: checked };
  });
}

/** How many times the input is halved before the last of `convs`: each edge must be at least 2^this. */
export function downsamplingsOf(convs: readonly { spec: VggConvSpec }[]): number {
  return convs[convs.length - 1]!.spec.block - 1;
}

function convsUpTo(layers: readonly LayerName[], weights: VggWeights): VggConvSpec[] {
  const deepest = Math.max(
    ...layers.map((layer) => VGG19_CONVS.findIndex((c) => c.name === kerasConvName(layer))),
  );
  const specs = VGG19_CONVS.slice(0, deepest + 1);
  const missing = specs.find((spec) => !weights.has(spec.name));
  if (missing) {
    const needing = layers.filter(
      (layer) => VGG19_CONVS.findIndex((c) => c.name === kerasConvName(layer)) >= specs.indexOf(missing),
    );
    const available = VGG19_CONVS.filter((c) => weights.has(c.name)).map((c) => c.name);
    throw new Error(
      `the VGG19 weights lack ${missing.name}, needed for ${needing.join(", ")}; ` +
        `available: ${available.length > 0 ? available.join(", ") : "none"}`,
    );
  }
  return specs;
}

function checkedWeights(weights: VggWeights, name: string, inChannels: number) {
  const w = weights.get(name)!;
  const [kh, kw, cin, cout] = w.kernelShape;
  const problem =
    cin !== inChannels
      ? `expects ${cin} input channels but the previous layer gives ${inChannels}`
      : w.kernel.length !== kh * kw * cin * cout
        ? `kernel has ${w.kernel.length} values for shape [${w.kernelShape.join(", ")}]`
        : w.bias.length !== cout
          ? `bias has ${w.bias.length} values for ${cout} output channels`
          : undefined;
  if (problem) throw new Error(`VGG19 weights for ${name}: ${problem}`);
  return w;
}
