import * as tf from "@tensorflow/tfjs-core";
import { type BackendChoice, initBackend } from "./backend.js";
import { createStyleNetwork } from "./create-network.js";
import type { StyleNetwork } from "./network.js";
import type { ObjectiveSpec } from "./objective.js";
import { resolveOptions, type StylizeRequest } from "./options.js";
import type { Pooling, RgbImage, VggWeights } from "./types.js";

/**
 * A warm engine: the network of the usual objective (its ONNX sessions built, its kernels run once),
 * made before the first job and kept between jobs, so that a job starts computing at once instead of
 * spending a second or more building sessions. Only the objective warmed is kept; a run that needs
 * another (other layers or loss weights) builds its own and frees it when done.
 */

interface Warm {
  readonly key: string;
  readonly backend: BackendChoice;
  readonly weights: VggWeights;
  readonly network: StyleNetwork;
}

let warm: Warm | undefined;

function keyOf(spec: ObjectiveSpec, pooling: Pooling): string {
  const { contentWeight, styleWeight, tvWeight, contentLayers, styleLayers } = spec;
  return JSON.stringify([contentWeight, styleWeight, tvWeight, contentLayers, styleLayers, pooling]);
}

/**
 * Builds and keeps the network for `request`'s objective (the defaults where it gives none) and runs
 * it once on a small image. Replaces (and frees) a network warmed before.
 */
export async function warmUp(
  weights: VggWeights,
  request: Omit<StylizeRequest, "content" | "styles"> = {},
): Promise<void> {
  const dot: RgbImage = { data: new Uint8Array(3), width: 1, height: 1 };
  const options = resolveOptions({ ...request, content: dot, styles: [{ image: dot, weight: 1 }] });
  const { contentWeight, styleWeight, tvWeight, contentLayers, styleLayers } = options;
  const spec: ObjectiveSpec = { contentWeight, styleWeight, tvWeight, contentLayers, styleLayers };
  const backend = await initBackend();
  const network = await createStyleNetwork(backend, weights, spec, options.pooling);
  try {
    // One evaluation sets up what a session's first run does (threads, kernels, first allocations).
    const edge = 4 << network.downsamplings;
    const image: RgbImage = { data: new Uint8Array(edge * edge * 3).fill(128), width: edge, height: edge };
    const objective = await network.objective(image, [{ image, weight: 1 }]);
    const pixels = tf.fill([1, edge, edge, 3], 100) as tf.Tensor4D;
    try {
      const { terms, grad } = await objective.evaluate(pixels);
      await terms.data();
      tf.dispose([terms, grad]);
    } finally {
      pixels.dispose();
      objective.dispose();
    }
  } catch (error) {
    network.dispose();
    throw error;
  }
  releaseWarm();
  warm = { key: keyOf(spec, options.pooling), backend, weights, network };
}

/** Frees the warm network, if any. */
export function releaseWarm(): void {
  warm?.network.dispose();
  warm = undefined;
}

/** The network for a run: the warm one when it fits, else a new one; `release()` when the run ends. */
export async function leaseNetwork(
  backend: BackendChoice,
  weights: VggWeights,
  spec: ObjectiveSpec,
  pooling: Pooling,
): Promise<{ network: StyleNetwork; release(): void }> {
  if (warm && warm.backend === backend && warm.weights === weights && warm.key === keyOf(spec, pooling)) {
    return { network: warm.network, release: () => {} };
  }
  const network = await createStyleNetwork(backend, weights, spec, pooling);
  return { network, release: () => network.dispose() };
}
