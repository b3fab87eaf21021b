/**
 * The VGG19 convolution stack (Simonyan & Zisserman 2014, configuration E), named the Keras way.
 * Shared by the weight loaders (to validate files) and the feature extractor (to build the network).
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
