/** The engine's public surface: run a stylisation, resolve options, plan scales. Types come from types.ts. */
export { type BackendChoice, initBackend, parseBackendName, releaseBackend } from "./backend.js";
export {
  DEFAULT_CONTENT_LAYERS,
  DEFAULT_LOSS_WEIGHTS,
  DEFAULT_STYLE_LAYERS,
  defaultStylizeOptions,
  resolveOptions,
  SIZE_LIMITS,
  type StylizeRequest,
  styleWeightForStrength,
} from "./options.js";
export { fitLongEdge, MIN_SCALE_EDGE, planScales, QUALITY_PRESETS, type Schedule } from "./schedule.js";
export { stylize } from "./stylize.js";
export type * from "./types.js";
export { kerasConvName, VGG19_CONVS } from "./vgg19-spec.js";
export { loadVggWeights, WeightsUnavailableError } from "./weights/index.js";
