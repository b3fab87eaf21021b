import {
  DEFAULT_STYLE_LAYERS,
  defaultStylizeOptions,
  type StylizeOptions,
  styleWeightForStrength,
} from "../../src/engine/index.js";

/**
 * The option sets the contact sheets compare. The reference weights stop at block 3, so both run the
 * block 1–3 analogue of the engine's layers: content at relu3_2 (not relu4_2), style at relu1_1, relu2_1,
 * relu3_1 with each set's own weights for those layers (relu4_1 and relu5_1 cannot be computed).
 */

export type Look = Partial<Omit<StylizeOptions, "content" | "styles">>;

const CONTENT_LAYERS = ["relu3_2"];
const BLOCKS_1_TO_3 = new Set(["relu1_1", "relu2_1", "relu3_1"]);

/**
 * The engine's defaults before issues 11 and 12, spelled out: style weight 100 at strength 0.5, equal
 * layer weights, the photo itself as the start, no jitter, the style at the scale's size; Adam over 5
 * scales of 60 steps each, no stopping rule.
 */
export const BEFORE: Look = {
  optimizer: "adam",
  scales: 5,
  stepsPerScale: 60,
  tolerance: 0,
  contentLayers: CONTENT_LAYERS,
  styleLayers: [...BLOCKS_1_TO_3].map((layer) => ({ layer, weight: 1 })),
  styleWeight: 100,
  strength: 0.5,
  startNoise: 0,
  jitter: false,
  styleScale: 1,
};

/** Today's defaults (whatever src/engine/options.ts says), on the block 1–3 layers. */
export const NOW: Look = {
  contentLayers: CONTENT_LAYERS,
  styleLayers: DEFAULT_STYLE_LAYERS.filter((s) => BLOCKS_1_TO_3.has(s.layer)),
  styleWeight: styleWeightForStrength(defaultStylizeOptions.strength),
};
