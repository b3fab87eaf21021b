import { type ObjectiveSpec, objectiveLayers } from "../objective.js";
import type { LayerName, Pooling, VggWeights } from "../types.js";
import {
  CAFFE_MEAN_BGR,
  checkedConvs,
  downsamplingsOf,
  kerasConvName,
  type VggConvSpec,
} from "../vgg19-spec.js";
import { GraphBuilder, type Value } from "./graph-builder.js";

/**
 * The Gatys objective as two ONNX graphs for onnxruntime, which has no autodiff:
 *
 * - `features`: image → the content layers' feature maps and the style layers' Gram matrices (the targets);
 * - `step`: image and targets → the loss terms and the gradient of the total with respect to the image,
 *   the backward pass written out as ops.
 *
 * Both compute exactly what src/engine/tfjs/losses.ts and vgg19.ts compute with tfjs (a test holds them equal).
 * Images enter as the engine holds them, [1, H, W, 3] RGB in 0..255; H and W are symbolic, so one session
 * serves every scale and style-image size. Internally the network runs NCHW, onnxruntime's native layout.
 * The backward rules, each exact:
 *   ReLU′     g · [y > 0]
 *   AvgPool′  nearest ×2 upsampling · ¼ (zero for a row/column the 'valid' pool dropped)
 *   MaxPool′  MaxUnpool to the recorded argmax
 *   Conv′     'same' convolution with the kernel flipped in space and its in/out channels swapped
 *             (stride 1, odd kernel)
 *   Gram      G = F·Fᵀ/(C·h·w), L = mean((G − A)²)·s  →  dF = 4s/(C²·C·h·w) · (G − A)·F
 *   content   L = mean((F − P)²)·c  →  dF = 2c/N · (F − P)
 *   TV        L = (mean(Δy²) + mean(Δx²))·t  →  2t/N · (Δ shifted back − Δ)
 */

/** Inputs and outputs of the graphs; targets are named per layer. */
export const IO = {
  image: "image",
  terms: "terms",
  grad: "grad",
  content: (layer: LayerName) => `content_${layer}`,
  gram: (layer: LayerName) => `gram_${layer}`,
} as const;

const IMAGE_DIMS = [1, "height", "width", 3] as const;

interface ConvParameters {
  readonly spec: VggConvSpec;
  readonly channels: number;
  /** OIHW, for the forward conv. */
  readonly kernel: Float32Array;
  /** IOHW, flipped in space: the backward conv. */
  readonly backwardKernel: Float32Array;
  readonly bias: Float32Array;
  readonly size: number;
  readonly inChannels: number;
}

/** One network's layers and weights; builds both graphs. */
export class VggGraphs {
  private readonly convs: readonly ConvParameters[];

  constructor(
    weights: VggWeights,
    private readonly spec: ObjectiveSpec,
    private readonly pooling: Pooling,
  ) {
    const layers = objectiveLayers(spec);
    if (layers.length === 0) throw new Error("the objective needs at least one layer");
    this.convs = checkedConvs(layers, weights).map(({ spec: conv, weights: w }) => {
      const [kh, kw, cin, cout] = w.kernelShape;
      if (kh !== kw || kh % 2 === 0)
        throw new Error(`${conv.name}: the onnxruntime engine needs odd square kernels`);
      // The Caffe weights expect BGR; reversing the first layer's input channels lets the graph take RGB.
      const kernel = hwioToOihw(w.kernel, kh, cin, cout, conv.block === 1 && conv.index === 1);
      return {
        spec: conv,
        channels: cout,
        kernel,
        backwardKernel: flippedTransposed(kernel, kh, cin, cout),
        bias: new Float32Array(w.bias),
        size: kh,
        inChannels: cin,
      };
    });
  }

  /** Edges must be at least 2^this pixels. */
  get downsamplings(): number {
    return downsamplingsOf(this.convs);
  }

  /** image → `content_<layer>` feature maps (NCHW) and `gram_<layer>` matrices. */
  features(): Uint8Array {
    const g = new GraphBuilder();
    const net = this.forward(g, g.input(IO.image, IMAGE_DIMS));
    for (const layer of this.spec.contentLayers)
      g.output(IO.content(layer), net.at(layer), this.featureDims(layer));
    for (const { layer } of this.spec.styleLayers) {
      const c = this.channelsAt(layer);
      g.output(IO.gram(layer), gram(g, net.at(layer), c).gram, [c, c]);
    }
    return g.encode("stylize-vgg19-features");
  }

  /** image, targets → `terms` [total, content, style, tv] and `grad` d total / d image. */
  step(): Uint8Array {
    const g = new GraphBuilder();
    const image = g.input(IO.image, IMAGE_DIMS);
    const net = this.forward(g, image);
    const { contentWeight, styleWeight, tvWeight } = this.spec;
    const featureGrads = new Map<LayerName, Value[]>();
    const addGrad = (layer: LayerName, grad: Value) =>
      featureGrads.set(layer, [...(featureGrads.get(layer) ?? []), grad]);

    const contentTerms = this.spec.contentLayers.map((layer) => {
      const f = net.at(layer);
      const diff = g.op("Sub", [f, g.input(IO.content(layer), this.featureDims(layer))]);
      addGrad(layer, g.op("Mul", [diff, perElement(g, 2 * contentWeight, f)]));
      return g.op("Mul", [meanOfSquares(g, diff), g.floats(contentWeight)]);
    });
    const styleTerms = this.spec.styleLayers.map(({ layer, weight }) => {
      const c = this.channelsAt(layer);
      const f = net.at(layer);
      const { gram: gm, rows } = gram(g, f, c);
      const diff = g.op("Sub", [gm, g.input(IO.gram(layer), [c, c])]);
      const dRows = g.op("Mul", [
        g.op("MatMul", [diff, rows]),
        perElement(g, (4 * styleWeight * weight) / (c * c), f),
      ]);
      addGrad(layer, g.op("Reshape", [dRows, g.op("Shape", [f])]));
      return g.op("Mul", [meanOfSquares(g, diff), g.floats(styleWeight * weight)]);
    });
    const tv = totalVariation(g, image, tvWeight);

    const networkGrad = g.op("Transpose", [this.backward(g, net, featureGrads)], { perm: [0, 2, 3, 1] });
    const gradient = g.op("Add", [networkGrad, tv.grad]);
    const content = sum(g, contentTerms);
    const style = sum(g, styleTerms);
    const total = sum(g, [content, style, tv.loss]);
    const terms = g.op(
      "Concat",
      [total, content, style, tv.loss].map((t) => g.op("Reshape", [t, g.ints([1])])),
      {
        axis: 0,
      },
    );
    g.output(IO.terms, terms, [4]);
    g.output(IO.grad, gradient, IMAGE_DIMS);
    return g.encode("stylize-vgg19-step");
  }

  private forward(g: GraphBuilder, image: Value): Network {
    const values = new Map<LayerName, Value>();
    const pools: Pool[] = [];
    const mean = g.floats(Float32Array.from([...CAFFE_MEAN_BGR].reverse()), [1, 3, 1, 1]);
    let x = g.op("Sub", [g.op("Transpose", [image], { perm: [0, 3, 1, 2] }), mean]);
    let block = 1;
    for (const conv of this.convs) {
      if (conv.spec.block !== block) {
        const pooled = this.pool(g, x);
        pools[this.convs.indexOf(conv)] = pooled;
        x = pooled.output;
        block = conv.spec.block;
      }
      const suffix = `${conv.spec.block}_${conv.spec.index}`;
      const pre = g.op(
        "Conv",
        [
          x,
          g.floats(conv.kernel, [conv.channels, conv.inChannels, conv.size, conv.size]),
          g.floats(conv.bias, [conv.channels]),
        ],
        sameConv(conv.size),
      );
      x = g.op("Relu", [pre]);
      values.set(`conv${suffix}`, pre);
      values.set(`relu${suffix}`, x);
    }
    return {
      pools,
      at: (layer) => {
        const value = values.get(layer);
        if (!value) throw new Error(`layer ${layer} is not in the network`);
        return value;
      },
    };
  }

  /** Gradient with respect to the preprocessed NCHW image, from the loss gradients at the feature layers. */
  private backward(g: GraphBuilder, net: Network, featureGrads: ReadonlyMap<LayerName, Value[]>): Value {
    let upstream: Value | undefined; // gradient with respect to the current layer's ReLU output
    for (let i = this.convs.length - 1; i >= 0; i--) {
      const conv = this.convs[i]!;
      const suffix = `${conv.spec.block}_${conv.spec.index}`;
      const atRelu = sumOptional(g, [upstream, ...(featureGrads.get(`relu${suffix}`) ?? [])]);
      const throughRelu =
        atRelu &&
        g.op("Where", [g.op("Greater", [net.at(`relu${suffix}`), g.floats(0)]), atRelu, g.floats(0)]);
      const atConv = sumOptional(g, [throughRelu, ...(featureGrads.get(`conv${suffix}`) ?? [])]);
      if (!atConv) throw new Error(`no gradient reaches ${conv.spec.name}`);
      let below = g.op(
        "Conv",
        [atConv, g.floats(conv.backwardKernel, [conv.inChannels, conv.channels, conv.size, conv.size])],
        sameConv(conv.size),
      );
      const pool = net.pools[i];
      if (pool) below = pool.backward(below);
      upstream = below;
    }
    return upstream!;
  }

  private pool(g: GraphBuilder, x: Value): Pool {
    const window = { kernel_shape: [2, 2], strides: [2, 2] };
    if (this.pooling === "max") {
      const [output, argmax] = g.opN("MaxPool", [x], 2, window);
      return {
        output: output!,
        backward: (grad) => g.op("MaxUnpool", [grad, argmax!, g.op("Shape", [x])], window),
      };
    }
    const output = g.op("AveragePool", [x], window);
    return {
      output,
      backward: (grad) => {
        const up = g.op("Resize", [grad, "", g.floats(Float32Array.of(1, 1, 2, 2), [4])], {
          mode: "nearest",
          coordinate_transformation_mode: "asymmetric",
          nearest_mode: "floor",
        });
        // An odd edge loses its last row/column to the 'valid' pool: its gradient is zero.
        const missing = g.op("Sub", [g.op("Shape", [x]), g.op("Shape", [up])]);
        const pads = g.op("Concat", [g.ints([0, 0, 0, 0]), missing], { axis: 0 });
        return g.op("Mul", [g.op("Pad", [up, pads]), g.floats(0.25)]);
      },
    };
  }

  private featureDims(layer: LayerName): (number | string)[] {
    return [1, this.channelsAt(layer), `${layer}_height`, `${layer}_width`];
  }

  private channelsAt(layer: LayerName): number {
    const name = kerasConvName(layer);
    const conv = this.convs.find((c) => c.spec.name === name);
    if (!conv) throw new Error(`layer ${layer} is not in the network`);
    return conv.channels;
  }
}

interface Pool {
  readonly output: Value;
  /** Gradient with respect to the pool's input, from the gradient with respect to its output. */
  backward(grad: Value): Value;
}

interface Network {
  /** pools[i]: the pool in front of conv i, if any. */
  readonly pools: readonly (Pool | undefined)[];
  at(layer: LayerName): Value;
}

function sameConv(size: number) {
  const pad = (size - 1) / 2;
  return { kernel_shape: [size, size], pads: [pad, pad, pad, pad], strides: [1, 1] };
}

/** Gram matrix G = F·Fᵀ / (C·h·w) of a [1, C, h, w] map, and F as rows [C, h·w]. */
function gram(g: GraphBuilder, features: Value, channels: number): { gram: Value; rows: Value } {
  const rows = g.op("Reshape", [features, g.ints([channels, -1])]);
  const product = g.op("MatMul", [rows, g.op("Transpose", [rows], { perm: [1, 0] })]);
  return { gram: g.op("Mul", [product, perElement(g, 1, features)]), rows };
}

/** `numerator` / (number of elements of `like`), as a float scalar: means whose size is known at run time. */
function perElement(g: GraphBuilder, numerator: number, like: Value): Value {
  return g.op("Div", [g.floats(numerator), g.op("Cast", [g.op("Size", [like])], { to: 1 })]);
}

function meanOfSquares(g: GraphBuilder, x: Value): Value {
  return g.op("ReduceMean", [g.op("Mul", [x, x])], { keepdims: 0 });
}

/** Squared total variation of the NHWC image and its gradient. */
function totalVariation(g: GraphBuilder, image: Value, weight: number): { loss: Value; grad: Value } {
  const along = (axis: number) => {
    const slice = (start: number, end: number) =>
      g.op("Slice", [image, g.ints([start]), g.ints([end]), g.ints([axis])]);
    const delta = g.op("Sub", [slice(1, Number.MAX_SAFE_INTEGER), slice(0, -1)]);
    const pad = (before: number, after: number) => {
      const pads = [0, 0, 0, 0, 0, 0, 0, 0];
      pads[axis] = before;
      pads[4 + axis] = after;
      return g.op("Pad", [delta, g.ints(pads)]);
    };
    // d/dx_j of Σ (x_{i+1} − x_i)² is 2(Δ_{j−1} − Δ_j), with Δ outside the image taken as 0.
    const grad = g.op("Mul", [g.op("Sub", [pad(1, 0), pad(0, 1)]), perElement(g, 2 * weight, delta)]);
    return { loss: meanOfSquares(g, delta), grad };
  };
  const dy = along(1);
  const dx = along(2);
  return {
    loss: g.op("Mul", [g.op("Add", [dy.loss, dx.loss]), g.floats(weight)]),
    grad: g.op("Add", [dy.grad, dx.grad]),
  };
}

function sum(g: GraphBuilder, terms: readonly Value[]): Value {
  return sumOptional(g, terms) ?? g.floats(0);
}

function sumOptional(g: GraphBuilder, terms: readonly (Value | undefined)[]): Value | undefined {
  const present = terms.filter((t): t is Value => t !== undefined);
  return present.length === 0 ? undefined : present.length === 1 ? present[0] : g.op("Sum", present);
}

/** HWIO → OIHW, optionally reversing the input channels. */
function hwioToOihw(
  kernel: Float32Array,
  k: number,
  cin: number,
  cout: number,
  reverseInput: boolean,
): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          const source = reverseInput ? cin - 1 - i : i;
          out[((o * cin + i) * k + y) * k + x] = kernel[((y * k + x) * cin + source) * cout + o]!;
        }
  return out;
}

/** OIHW → IOHW flipped in space: the kernel whose 'same' convolution is the input gradient. */
function flippedTransposed(kernel: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++)
          out[((i * cout + o) * k + (k - 1 - y)) * k + (k - 1 - x)] =
            kernel[((o * cin + i) * k + y) * k + x]!;
  return out;
}
