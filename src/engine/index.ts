/**
 * The engine's front door, the only module code outside src/engine imports (.dependency-cruiser.cjs checks
 * it): pick a backend, load weights, resolve options, plan scales, run a stylisation. Pure: it reads no
 * environment; the caller passes its configuration in.
 */
export {
  type BackendChoice,
  type BackendOptions,
  initBackend,
  MAX_THREADS,
  releaseBackend,
  type ThreadSetting,
} from "./backend.js";
export {
  DEFAULT_CONTENT_LAYERS,
  DEFAULT_LOSS_WEIGHTS,
  DEFAULT_STYLE_LAYERS,
  defaultStylizeOptions,
  minimumOutputEdge,
  resolveOptions,
  resolveSchedule,
  SIZE_LIMITS,
  type StylizeRequest,
  styleWeightForStrength,
} from "./options.js";
export { fitLongEdge, MIN_SCALE_EDGE, planScales, QUALITY_PRESETS, type Schedule } from "./schedule.js";
export { stylize } from "./stylize.js";
export type * from "./types.js";
export { BACKEND_ORDER, COLOR_MODES, INIT_MODES, OPTIMIZERS, POOLINGS, QUALITIES } from "./types.js";
export { kerasConvName, VGG19_CONVS } from "./vgg19-spec.js";
export { releaseWarm, warmUp } from "./warm.js";
export {
  InvalidWeightsError,
  loadVggWeights,
  type WeightsOrigin,
  WeightsUnavailableError,
} from "./weights/index.js";
