import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "./backend.js";
import { colorSources, luminanceImage, type SourceImages, withContentChroma } from "./color.js";
import type { ScaleObjective, StyleNetwork } from "./network.js";
import type { ObjectiveSpec } from "./objective.js";
import { Adam } from "./optimizers/adam.js";
import { Lbfgs } from "./optimizers/lbfgs.js";
import type { ImageOptimizer } from "./optimizers/optimizer.js";
import { resolveOptions, type StylizeRequest } from "./options.js";
import { PreviewCadence, RunClock } from "./progress.js";
import { gaussianNoise } from "./random.js";
import { resampleImage } from "./resample.js";
import { fitLongEdge, Plateau, planScales } from "./schedule.js";
import { imageToTensor, resizeTensor, tensorToImage } from "./tensor-image.js";
import type {
  LossBreakdown,
  RgbImage,
  ScalePlan,
  StyleSource,
  StylizeEvent,
  StylizeOptions,
  VggWeights,
} from "./types.js";
import { leaseNetwork } from "./warm.js";

export { resolveOptions, type StylizeRequest } from "./options.js";

/** Adam's step in pixel values: crowsonkb's 0.02 on a 0..1 scale is 5 here; a little more suits short runs. */
const ADAM_LEARNING_RATE = 8;
/** Noise init: mid grey plus this standard deviation of seeded Gaussian noise, in pixel values. */
const NOISE_STD = 32;

/**
 * Gatys et al. neural style transfer, multi-scale, as a stream of events: `start`, a `step` per
 * optimisation step, `preview` frames at the requested cadence, and `done` with the image at exactly the
 * requested size. Yields to the event loop between steps; aborting `signal` stops within one step, frees
 * every tensor and makes the generator throw `signal.reason`. Breaking out of the loop early frees them too.
 */
export async function* stylize(
  weights: VggWeights,
  request: StylizeRequest,
  signal?: AbortSignal,
): AsyncGenerator<StylizeEvent> {
  signal?.throwIfAborted();
  const options = resolveOptions(request);
  const startedAt = performance.now();
  const backendChoice = await initBackend();
  const backend = backendChoice.name;
  const images = colorSources(options);

  const { contentWeight, styleWeight, tvWeight, contentLayers, styleLayers } = options;
  const spec: ObjectiveSpec = { contentWeight, styleWeight, tvWeight, contentLayers, styleLayers };
  const lease = await leaseNetwork(backendChoice, weights, spec, options.pooling);
  const net = lease.network;
  let plan: ScalePlan[];
  try {
    const schedule = { scales: options.scales, stepsPerScale: options.stepsPerScale };
    plan = planScales(options.content, options.size, schedule, 1 << net.downsamplings);
  } catch (error) {
    lease.release();
    throw error;
  }
  const totalSteps = plan.reduce((n, s) => n + s.steps, 0);
  const clock = new RunClock(plan, startedAt);
  const previews = new PreviewCadence(options, startedAt);
  let image: tf.Tensor4D | undefined;
  let losses: LossBreakdown = { content: 0, style: 0, tv: 0, total: 0 };
  let overallStep = 0;
  // The content at the current scale's size; after the loop, at the last scale's, which is the output's.
  let scaledContent: RgbImage | undefined;
  try {
    yield { type: "start", backend, seed: options.seed, plan, totalSteps };
    for (const [index, scale] of plan.entries()) {
      const content = resampleImage(images.content, scale.width, scale.height);
      scaledContent = content;
      const objective = await scaleObjective(net, options, images, content);
      let optimizer: ImageOptimizer | undefined;
      try {
        const start = image ? resizeTensor(image, scale.width, scale.height) : initialImage(options, content);
        image?.dispose();
        image = undefined;
        try {
          optimizer = createOptimizer(options, objective, start, scale.steps);
        } finally {
          start.dispose();
        }
        const plateau = new Plateau(options.tolerance);
        for (let step = 1; step <= scale.steps; step++) {
          signal?.throwIfAborted();
          const stepStarted = performance.now();
          losses = await optimizer.step();
          signal?.throwIfAborted();
          overallStep += 1;
          clock.record(index, performance.now() - stepStarted);
          yield {
            type: "step",
            scale: index,
            step,
            overallStep,
            totalSteps,
            losses,
            elapsedMs: clock.elapsedMs(),
            etaMs: clock.etaMs(index, step),
          };
          if (previews.due(overallStep)) {
            yield {
              type: "preview",
              overallStep,
              totalSteps,
              image: await snapshot(optimizer, options, content),
            };
          }
          // Let timers, I/O and abort handlers run between steps.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (plateau.reached(losses.total)) break;
        }
        signal?.throwIfAborted();
        image = optimizer.output();
      } finally {
        optimizer?.dispose();
        objective.dispose();
      }
    }
    const result = finish(await tensorToImage(image!), options, scaledContent!);
    yield {
      type: "done",
      image: result,
      seed: options.seed,
      losses,
      elapsedMs: clock.elapsedMs(),
      totalSteps,
    };
  } finally {
    image?.dispose();
    lease.release();
  }
}

/** The objective at one scale; the style images scale with the content. (Also what npm run bench:quality scores with.) */
export function scaleObjective(
  net: StyleNetwork,
  options: StylizeOptions,
  images: SourceImages,
  content: RgbImage,
): Promise<ScaleObjective> {
  const seen =
    images.contentSeen === images.content
      ? content
      : resampleImage(images.contentSeen, content.width, content.height);
  const styleLongEdge = Math.round(Math.max(content.width, content.height) * options.styleScale);
  const minEdge = 1 << net.downsamplings;
  const styles: StyleSource[] = images.styles
    .filter((s) => s.weight > 0)
    .map((s) => {
      // Never smaller than the deepest layer needs, even for a small styleScale.
      const shortEdge = Math.min(s.image.width, s.image.height);
      const longEdge = Math.max(
        styleLongEdge,
        Math.ceil((minEdge * Math.max(s.image.width, s.image.height)) / shortEdge),
      );
      const size = fitLongEdge(s.image.width, s.image.height, longEdge);
      return { image: resampleImage(s.image, size.width, size.height), weight: s.weight };
    });
  return net.objective(seen, styles);
}

function createOptimizer(
  options: StylizeOptions,
  objective: ScaleObjective,
  start: tf.Tensor4D,
  steps: number,
): ImageOptimizer {
  return options.optimizer === "lbfgs"
    ? new Lbfgs(objective, start)
    : new Adam(objective, start, { learningRate: ADAM_LEARNING_RATE, averageDecay: averageDecayFor(steps) });
}

/** Average over roughly the last fifth of a scale's steps (crowsonkb's 0.99 suits runs of 500+ steps). */
function averageDecayFor(steps: number): number {
  return Math.min(0.99, Math.max(0, 1 - 5 / steps));
}

function initialImage(options: StylizeOptions, content: RgbImage): tf.Tensor4D {
  if (options.init === "content") {
    return imageToTensor(options.colorMode === "luminance" ? luminanceImage(content) : content);
  }
  const noise = gaussianNoise(content.width * content.height * 3, options.seed);
  return tf.tidy(() =>
    tf.clipByValue(
      tf.add(tf.mul(tf.tensor4d(noise, [1, content.height, content.width, 3]), NOISE_STD), 127.5),
      0,
      255,
    ),
  ) as tf.Tensor4D;
}

/** Puts the content's colours back in luminance mode; `content` has the image's size. */
function finish(image: RgbImage, options: StylizeOptions, content: RgbImage): RgbImage {
  return options.colorMode === "luminance" ? withContentChroma(image, content) : image;
}

async function snapshot(
  optimizer: ImageOptimizer,
  options: StylizeOptions,
  content: RgbImage,
): Promise<RgbImage> {
  const output = optimizer.output();
  try {
    return finish(await tensorToImage(output), options, content);
  } finally {
    output.dispose();
  }
}
