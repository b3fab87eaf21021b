import type { ConvWeights, LayerName, VggWeights } from "./types.js";

/**
 * The VGG19 convolution stack (Simonyan & Zisserman 2014, configuration E), named the Keras way.
 * Shared by the weight loaders (to validate files) and both networks (tfjs and onnxruntime, to build theirs).
 * Every conv is 3×3, stride 1, 'same' padding, followed by ReLU; a 2×2 pool ends each block.
 */

export interface VggConvSpec {
  /** Keras layer name, e.g. `block3_conv2`. */
  readonly name: string;
  readonly block: number;
  /** 1-based index within the block. */
  readonly index: number;
  /** Channels of the real ImageNet network (tiny test networks may use fewer). */
  readonly inChannels: number;
  readonly outChannels: number;
}

const BLOCKS: readonly { convs: number; channels: number }[] = [
  { convs: 2, channels: 64 },
  { convs: 2, channels: 128 },
  { convs: 4, channels: 256 },
  { convs: 4, channels: 512 },
  { convs: 4, channels: 512 },
];

export const VGG19_CONVS: readonly VggConvSpec[] = BLOCKS.flatMap(({ convs, channels }, b) =>
  Array.from({ length: convs }, (_, i) => ({
    name: `block${b + 1}_conv${i + 1}`,
    block: b + 1,
    index: i + 1,
    inChannels: i === 0 ? (b === 0 ? 3 : BLOCKS[b - 1]!.channels) : channels,
    outChannels: channels,
  })),
);

/** `relu3_1` / `conv3_1` → `block3_conv1`. Throws on a name that is not a VGG19 feature layer. */
export function kerasConvName(layer: string): string {
  const match = /^(relu|conv)(\d)_(\d)$/.exec(layer);
  const name = match ? `block${match[2]}_conv${match[3]}` : undefined;
  if (!name || !VGG19_CONVS.some((c) => c.name === name)) {
    throw new Error(`unknown VGG19 layer "${layer}" (expected e.g. relu1_1 … relu5_4 or conv1_1 … conv5_4)`);
  }
  return name;
}

/** ImageNet mean in BGR order, the preprocessing the Caffe / Keras VGG19 weights were trained with. */
export const CAFFE_MEAN_BGR: readonly number[] = [103.939, 116.779, 123.68];

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

/** The shortest edge an image may have for `layers`: each pooling before the deepest one halves it. */
export function minimumEdgeFor(layers: readonly LayerName[]): number {
  const deepest = Math.max(
    ...layers.map((layer) => VGG19_CONVS.find((c) => c.name === kerasConvName(layer))!.block),
  );
  return 2 ** (deepest - 1);
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
