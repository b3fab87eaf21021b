import { seededRandom } from "../random.js";
import type { ConvWeights, VggWeights } from "../types.js";
import { VGG19_CONVS } from "../vgg19-spec.js";

export interface RandomVggOptions {
  /** How many convs, from block1_conv1 on (1–16). Default 4 (blocks 1–2). */
  readonly layers?: number;
  /** Output channels per block, block 1 first; the last value repeats for later blocks. Default [4, 8, 8, 16, 16]. */
  readonly channels?: readonly number[];
  readonly seed?: number;
}

/** The real network's channel counts, for benchmarks that need its exact cost. */
export const VGG19_CHANNELS: readonly number[] = [64, 128, 256, 512, 512];

/**
 * Deterministic random VGG19-shaped weights (real Keras layer names, He initialisation): tiny networks for
 * tests, full-size ones for benchmarks, where the values do not matter but the shapes do.
 */
export function randomVggWeights(options: RandomVggOptions = {}): VggWeights {
  const { layers = 4, channels = [4, 8, 8, 16, 16], seed = 1 } = options;
  if (!Number.isInteger(layers) || layers < 1 || layers > VGG19_CONVS.length) {
    throw new Error(`layers must be 1..${VGG19_CONVS.length}, got ${layers}`);
  }
  const uniform = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const out = new Map<string, ConvWeights>();
  let cin = 3;
  for (const spec of VGG19_CONVS.slice(0, layers)) {
    const cout = channels[Math.min(spec.block - 1, channels.length - 1)]!;
    // He initialisation keeps ReLU activations from shrinking layer after layer.
    const std = Math.sqrt(2 / (9 * cin));
    const kernel = Float32Array.from({ length: 9 * cin * cout }, () => normal() * std);
    const bias = Float32Array.from({ length: cout }, () => normal() * 0.05);
    out.set(spec.name, { kernelShape: [3, 3, cin, cout], kernel, bias });
    cin = cout;
  }
  return out;
}
