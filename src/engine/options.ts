import { QUALITY_PRESETS, type Schedule } from "./schedule.js";
import { START_NOISE_STD } from "./start-image.js";
import {
  COLOR_MODES,
  INIT_MODES,
  type LayerName,
  OPTIMIZERS,
  POOLINGS,
  QUALITIES,
  type StylizeOptions,
} from "./types.js";
import { kerasConvName, minimumEdgeFor } from "./vgg19-spec.js";

/** What a caller asks for: the images, plus any options it wants to differ from the defaults. */
export type StylizeRequest = Partial<StylizeOptions> & Pick<StylizeOptions, "content" | "styles">;

/** What resolveOptions returns: every option given, the loss weights, layers and schedule included. */
export type ResolvedOptions = StylizeOptions &
  Required<
    Pick<
      StylizeOptions,
      | "contentWeight"
      | "styleWeight"
      | "tvWeight"
      | "contentLayers"
      | "styleLayers"
      | "scales"
      | "stepsPerScale"
      | "tolerance"
    >
  >;

/**
 * Loss weights at strength 0.5. Content 5 is jcjohnson/neural-style's, whose objective this one
 * reproduces: Caffe-preprocessed 0..255 input, content MSE, Gram matrices divided by C·H·W compared by MSE.
 * Their style 100 read as a tinted photo at 384–512 px (issue 11); 400 (what strength 0.7 gave before) is
 * painterly on the reference pairs at 256 and 384 px without losing the photo's layout, and 800 lost the
 * buildings (docs/look.md). TV is a mean here (neural-style: half a sum), so a weight
 * converted from theirs (1e-3 at 512 px ≈ 400) would be 4× theirs at 256 px; on the reference weights
 * (Tübingen × Starry Night, 256 px) 400 held both the style and the content loss 2–3× higher and washed
 * out detail, while 50 gave lower losses on both and no visible noise.
 */
export const DEFAULT_LOSS_WEIGHTS = { content: 5, style: 400, tv: 50 } as const;

/**
 * Gatys et al. (2015): content at conv4_2 (after its ReLU), style at the first layer of each block. The
 * layers' weights (sum 5, as Gatys' equal ones) lean on the deeper layers, whose larger receptive fields
 * see brush marks rather than grain and colour: relu1_1 mostly matches colour and pixel noise.
 */
export const DEFAULT_CONTENT_LAYERS: readonly LayerName[] = ["relu4_2"];
export const DEFAULT_STYLE_LAYERS: readonly { layer: LayerName; weight: number }[] = [
  { layer: "relu1_1", weight: 0.25 },
  { layer: "relu2_1", weight: 0.75 },
  { layer: "relu3_1", weight: 1.5 },
  { layer: "relu4_1", weight: 1.5 },
  { layer: "relu5_1", weight: 1 },
];

/** strength 0 → style weight / 10^1.5, 1 → × 10^1.5: a log scale, since useful style weights span decades. */
export const STRENGTH_DECADES = 3;

export function styleWeightForStrength(strength: number): number {
  return DEFAULT_LOSS_WEIGHTS.style * 10 ** (STRENGTH_DECADES * (strength - 0.5));
}

export const SIZE_LIMITS = { min: 32, max: 4096 } as const;

/** The shortest edge an output may have with these layers (the defaults when none are given). */
export function minimumOutputEdge(
  layers: Pick<StylizeOptions, "contentLayers" | "styleLayers"> = {},
): number {
  const content = layers.contentLayers ?? DEFAULT_CONTENT_LAYERS;
  const style = (layers.styleLayers ?? DEFAULT_STYLE_LAYERS).map((s) => s.layer);
  return minimumEdgeFor([...content, ...style]);
}

export const defaultStylizeOptions = {
  size: 512,
  quality: "balanced",
  strength: 0.5,
  // Reaches the same loss several times sooner than Adam (README, Performance: npm run bench:quality).
  optimizer: "lbfgs",
  // Gatys et al. found average pooling gives slightly more appealing results.
  pooling: "avg",
  init: "content",
  startNoise: START_NOISE_STD,
  jitter: true,
  colorMode: "none",
  styleScale: 1,
  previewEverySteps: 0,
  previewEverySeconds: 10,
} as const satisfies Partial<StylizeOptions>;

/**
 * Fills in every default, derives the style weight from `strength` unless given, picks a seed when none
 * is given, and validates, with errors that say which option is wrong and what is allowed. Idempotent.
 */
export function resolveOptions(request: StylizeRequest): ResolvedOptions {
  const merged = { ...defaultStylizeOptions, ...withoutUndefined(request) };
  // Only the preset's values can be missing here (an unknown quality), and validate() says so first.
  const options = {
    ...merged,
    seed: merged.seed ?? Math.floor(Math.random() * 2 ** 31),
    contentWeight: merged.contentWeight ?? DEFAULT_LOSS_WEIGHTS.content,
    styleWeight: merged.styleWeight ?? styleWeightForStrength(merged.strength),
    tvWeight: merged.tvWeight ?? DEFAULT_LOSS_WEIGHTS.tv,
    contentLayers: merged.contentLayers ?? DEFAULT_CONTENT_LAYERS,
    styleLayers: merged.styleLayers ?? DEFAULT_STYLE_LAYERS,
    ...resolveSchedule(merged),
  } as ResolvedOptions;
  validate(options);
  return options;
}

/**
 * The schedule a run of these options follows: the quality preset's, with the caller's overrides. Not
 * validated (resolveOptions does that); for an unknown quality the preset's values are missing.
 */
export function resolveSchedule(
  options: Pick<Partial<StylizeOptions>, "quality" | "scales" | "stepsPerScale" | "tolerance">,
): Schedule {
  const preset = QUALITY_PRESETS[options.quality ?? defaultStylizeOptions.quality];
  return {
    scales: options.scales ?? preset?.scales,
    stepsPerScale: options.stepsPerScale ?? preset?.stepsPerScale,
    // A step count the caller chose is run in full unless a tolerance is given too.
    tolerance: options.tolerance ?? (options.stepsPerScale === undefined ? preset?.tolerance : 0),
  } as Schedule;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function validate(o: ResolvedOptions): void {
  const fail = (message: string): never => {
    throw new RangeError(`invalid stylize options: ${message}`);
  };
  const oneOf = (name: string, value: string, allowed: readonly string[]) => {
    if (!allowed.includes(value)) fail(`${name} must be one of ${allowed.join(", ")}; got "${value}"`);
  };
  const integerIn = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      fail(`${name} must be a whole number from ${min} to ${max}; got ${value}`);
  };
  const nonNegative = (name: string, value: number) => {
    if (!(Number.isFinite(value) && value >= 0)) fail(`${name} must be a finite number ≥ 0; got ${value}`);
  };

  checkImage("content", o.content, fail);
  if (o.initImage !== undefined) checkImage("initImage", o.initImage, fail);
  if (o.styles.length === 0) fail("at least one style image is needed");
  o.styles.forEach((s, i) => {
    checkImage(`styles[${i}].image`, s.image, fail);
    nonNegative(`styles[${i}].weight`, s.weight);
  });
  if (!o.styles.some((s) => s.weight > 0)) fail("at least one style weight must be greater than 0");
  integerIn("size", o.size, SIZE_LIMITS.min, SIZE_LIMITS.max);
  oneOf("quality", o.quality, QUALITIES);
  oneOf("optimizer", o.optimizer, OPTIMIZERS);
  oneOf("pooling", o.pooling, POOLINGS);
  oneOf("init", o.init, INIT_MODES);
  oneOf("colorMode", o.colorMode, COLOR_MODES);
  if (!(o.startNoise >= 0 && o.startNoise <= 255))
    fail(`startNoise must be from 0 to 255; got ${o.startNoise}`);
  if (typeof o.jitter !== "boolean") fail(`jitter must be true or false; got ${o.jitter}`);
  if (!(o.strength >= 0 && o.strength <= 1)) fail(`strength must be from 0 to 1; got ${o.strength}`);
  nonNegative("contentWeight", o.contentWeight);
  nonNegative("styleWeight", o.styleWeight);
  nonNegative("tvWeight", o.tvWeight);
  for (const layer of [...o.contentLayers, ...o.styleLayers.map((s) => s.layer)]) {
    try {
      kerasConvName(layer);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  for (const s of o.styleLayers) nonNegative(`weight of style layer ${s.layer}`, s.weight);
  if (o.styleLayers.length === 0) fail("at least one style layer is needed");
  integerIn("seed", o.seed, 0, 2 ** 32 - 1);
  if (!(o.styleScale > 0 && o.styleScale <= 8))
    fail(`styleScale must be above 0 and at most 8; got ${o.styleScale}`);
  integerIn("previewEverySteps", o.previewEverySteps, 0, Number.MAX_SAFE_INTEGER);
  nonNegative("previewEverySeconds", o.previewEverySeconds);
  integerIn("scales", o.scales, 1, 12);
  integerIn("stepsPerScale", o.stepsPerScale, 1, 100_000);
  if (!(o.tolerance >= 0 && o.tolerance < 1)) fail(`tolerance must be from 0 to below 1; got ${o.tolerance}`);
}

function checkImage(name: string, image: StylizeOptions["content"], fail: (m: string) => never): void {
  const { width, height, data } = image ?? {};
  if (!(Number.isInteger(width) && Number.isInteger(height) && width! > 0 && height! > 0)) {
    fail(`${name} must have positive integer width and height`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width! * height! * 3) {
    fail(`${name} must hold width × height × 3 bytes of RGB`);
  }
}
