/**
 * The engine's public contract. Everything outside src/engine (CLI, bot, queue) talks to the engine
 * through these types only; no tfjs type crosses this boundary, so the engine can run in a worker thread
 * and on any backend.
 */

/** An 8-bit sRGB image, 3 channels, row-major, no alpha. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Weights of one convolution layer, channels-last (Keras/TensorFlow HWIO layout). */
export interface ConvWeights {
  /** [kernelHeight, kernelWidth, inChannels, outChannels] */
  readonly kernelShape: readonly [number, number, number, number];
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
}

/** VGG19 conv weights keyed by Keras layer name (`block1_conv1` … `block5_conv4`); may be partial. */
export type VggWeights = ReadonlyMap<string, ConvWeights>;

/** Every backend, in the order the engine tries them (fastest first). */
export const BACKEND_ORDER = ["tensorflow-gpu", "tensorflow", "onnxruntime", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];
// The allowed values of each option, for validation and for the CLI's and the bot's choices.
export const QUALITIES = ["fast", "balanced", "hq"] as const;
export type Quality = (typeof QUALITIES)[number];
export const OPTIMIZERS = ["adam", "lbfgs"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const POOLINGS = ["max", "avg"] as const;
export type Pooling = (typeof POOLINGS)[number];
export const INIT_MODES = ["content", "noise"] as const;
export type InitMode = (typeof INIT_MODES)[number];
export const COLOR_MODES = ["none", "luminance", "histogram"] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

/** A style image and its share of the style loss. */
export interface StyleSource {
  readonly image: RgbImage;
  readonly weight: number;
}

/** A feature layer named the Caffe/Gatys way: `relu1_1`, `relu4_2`, `conv5_1`, … */
export type LayerName = string;

export interface StylizeOptions {
  readonly content: RgbImage;
  readonly styles: readonly StyleSource[];
  /** Long edge of the output in pixels. */
  readonly size: number;
  readonly quality: Quality;
  /** 0..1, one knob over the style/content balance; 0.5 is the preset's own balance. */
  readonly strength: number;
  readonly contentWeight?: number;
  readonly styleWeight?: number;
  readonly tvWeight?: number;
  readonly contentLayers?: readonly LayerName[];
  readonly styleLayers?: readonly { layer: LayerName; weight: number }[];
  readonly optimizer: OptimizerName;
  readonly pooling: Pooling;
  readonly init: InitMode;
  /**
   * Start from this image instead of the photo (e.g. a finished result, to refine it at a larger size):
   * resized to the first scale's size, then blended with the seed's noise like the photo would be.
   */
  readonly initImage?: RgbImage;
  /**
   * Standard deviation, in pixel values (0..255), of the seed's smooth noise added to the photo or
   * initImage at the start; 0 starts from them exactly (the seed then decides only the jitter).
   */
  readonly startNoise: number;
  /** Shift the objective's view of the image by seeded offsets between steps (Adam only; see jitter.ts). */
  readonly jitter: boolean;
  /**
   * Decides the start (the photo blended with smooth noise) and the jitter shifts: a new seed gives a
   * different painting, the same seed on the same backend the same bytes. Reported back.
   */
  readonly seed: number;
  readonly colorMode: ColorMode;
  /** Style image size relative to the content size (1 = same long edge). */
  readonly styleScale: number;
  /** Emit a preview frame every this many steps and/or seconds (whichever first); 0 disables that trigger. */
  readonly previewEverySteps: number;
  readonly previewEverySeconds: number;
  /** Overrides the quality preset's schedule: steps per scale. */
  readonly stepsPerScale?: number;
  /** Overrides the quality preset's schedule: number of scales. */
  readonly scales?: number;
}

export interface LossBreakdown {
  readonly content: number;
  readonly style: number;
  readonly tv: number;
  readonly total: number;
}

export interface ScalePlan {
  readonly width: number;
  readonly height: number;
  readonly steps: number;
}

export type StylizeEvent =
  | {
      readonly type: "start";
      readonly backend: BackendName;
      readonly seed: number;
      readonly plan: readonly ScalePlan[];
      readonly totalSteps: number;
    }
  | {
      readonly type: "step";
      /** 0-based index into the plan. */
      readonly scale: number;
      /** 1-based step within the scale. */
      readonly step: number;
      /** 1-based step over the whole run. */
      readonly overallStep: number;
      readonly totalSteps: number;
      readonly losses: LossBreakdown;
      readonly elapsedMs: number;
      readonly etaMs: number;
    }
  | {
      readonly type: "preview";
      readonly overallStep: number;
      readonly totalSteps: number;
      readonly image: RgbImage;
    }
  | {
      readonly type: "done";
      readonly image: RgbImage;
      readonly seed: number;
      readonly losses: LossBreakdown;
      readonly elapsedMs: number;
      readonly totalSteps: number;
    };
