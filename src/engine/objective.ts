import type { LayerName } from "./types.js";

/**
 * What the Gatys objective computes, whichever backend computes it (tfjs with autodiff, or onnxruntime with
 * the backward pass written as ops): its weights and layers, and how the styles' weights blend.
 */

export interface ObjectiveSpec {
  readonly contentWeight: number;
  readonly styleWeight: number;
  readonly tvWeight: number;
  readonly contentLayers: readonly LayerName[];
  readonly styleLayers: readonly { layer: LayerName; weight: number }[];
}

/** Every feature layer the objective reads: content layers first, then style layers. */
export function objectiveLayers(spec: ObjectiveSpec): LayerName[] {
  return [...spec.contentLayers, ...spec.styleLayers.map((s) => s.layer)];
}

/** Each style's share of the blended Gram matrices: the weights normalised to sum to 1. */
export function styleShares(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (weights.length === 0 || !(total > 0))
    throw new Error("blending styles needs at least one positive weight");
  return weights.map((w) => w / total);
}
