import type * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "./backend.js";
import { colorSources, type SourceImages, withContentChroma } from "./color.js";
import { JITTER_EVERY, type JitterPlan, jitteredObjective, rollImage } from "./jitter.js";
import type { ScaleObjective, StyleNetwork } from "./network.js";
import type { ObjectiveSpec } from "./objective.js";
import { Adam } from "./optimizers/adam.js";
import { Lbfgs } from "./optimizers/lbfgs.js";
import type { ImageOptimizer } from "./optimizers/optimizer.js";
import { resolveOptions, type StylizeRequest } from "./options.js";
import { PreviewCadence, RunClock } from "./progress.js";
import { resampleImage } from "./resample.js";
import { fitLongEdge, Plateau, planScales } from "./schedule.js";
import { startImage } from "./start-image.js";
import { resizeTensor, tensorToImage } from "./tensor-image.js";
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
    const startEdge = options.initImage ? Math.max(options.initImage.width, options.initImage.height) : 0;
    plan = planScales(options.content, options.size, schedule, 1 << net.downsamplings, startEdge);
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
      const seen = contentSeen(images, content);
      const objective = await jitteredObjective(
        (shift) => scaleObjective(net, options, images, rollImage(seen, shift)),
        jitterPlan(options, net, index, index === plan.length - 1),
      );
      let optimizer: ImageOptimizer | undefined;
      try {
        const start = image ? resizeTensor(image, scale.width, scale.height) : startImage(options, content);
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

/** What the objective compares against at one scale: the content as the loss sees it, at `content`'s size. */
function contentSeen(images: SourceImages, content: RgbImage): RgbImage {
  return images.contentSeen === images.content
    ? content
    : resampleImage(images.contentSeen, content.width, content.height);
}

/**
 * Seeded shifts for Adam at the last scale, whose image is the result: a lattice an earlier scale may
 * start is resampled onto another grid phase at the next scale, and each shift costs a rebuild of the
 * objective (measured +40% run time on the tiny test network when every scale was shifted). None for
 * L-BFGS, whose line search and curvature pairs need one fixed objective.
 */
function jitterPlan(
  options: StylizeOptions,
  net: StyleNetwork,
  scaleIndex: number,
  last: boolean,
): JitterPlan {
  const on = options.jitter && options.optimizer === "adam" && last;
  return {
    every: on ? JITTER_EVERY : 0,
    period: 1 << net.downsamplings,
    seed: options.seed + scaleIndex + 1,
  };
}

/**
 * The objective at one scale for the content as seen (`seen`); the style images scale with it. (Also
 * what npm run bench:quality scores with.)
 */
export function scaleObjective(
  net: StyleNetwork,
  options: StylizeOptions,
  images: SourceImages,
  seen: RgbImage,
): Promise<ScaleObjective> {
  const styleLongEdge = Math.round(Math.max(seen.width, seen.height) * options.styleScale);
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
