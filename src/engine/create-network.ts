import type { BackendChoice } from "./backend.js";
import type { StyleNetwork } from "./network.js";
import type { ObjectiveSpec } from "./objective.js";
import { OrtNetwork } from "./onnx/ort-network.js";
import { TfjsNetwork } from "./tfjs/tfjs-network.js";
import type { Pooling, VggWeights } from "./types.js";

/**
 * The network for the active backend: onnxruntime's own graphs, or tfjs on any tfjs backend. Kept apart
 * from the interface (./network.ts) so the implementations import the interface and nothing imports back.
 */
export async function createStyleNetwork(
  backend: BackendChoice,
  weights: VggWeights,
  spec: ObjectiveSpec,
  pooling: Pooling,
): Promise<StyleNetwork> {
  return backend.name === "onnxruntime"
    ? OrtNetwork.create(weights, spec, pooling, backend.threads ?? 1)
    : new TfjsNetwork(weights, spec, pooling);
}
