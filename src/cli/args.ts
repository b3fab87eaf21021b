import { Command, InvalidArgumentError, Option } from "commander";
import {
  BACKEND_ORDER,
  type BackendName,
  type ColorMode,
  defaultStylizeOptions as defaults,
  INIT_MODES,
  type InitMode,
  OPTIMIZERS,
  type OptimizerName,
  POOLINGS,
  type Pooling,
  QUALITIES,
  type Quality,
  SIZE_LIMITS,
} from "../engine/index.js";

/** What the `stylize` command line asks for, validated and typed; no I/O happens here. */
export interface CliRequest {
  readonly content: string;
  readonly styles: readonly { path: string; weight: number }[];
  readonly out: string;
  readonly quality: Quality;
  readonly size: number;
  readonly strength: number;
  readonly colorMode: ColorMode;
  readonly init: InitMode;
  readonly seed: number | undefined;
  readonly optimizer: OptimizerName;
  readonly pooling: Pooling;
  readonly styleScale: number;
  readonly framesDir: string | undefined;
  readonly weights: string | undefined;
  readonly contentLayers: readonly string[] | undefined;
  readonly styleLayers: readonly string[] | undefined;
  readonly stepsPerScale: number | undefined;
  readonly scales: number | undefined;
  readonly backend: BackendName | undefined;
  readonly quiet: boolean;
}

/** `painting.jpg` or `painting.jpg:0.3`; the weight is split off only when the tail is a number. */
export function parseStyleArg(value: string, previous: { path: string; weight: number }[] = []) {
  const match = /^(.*):(\d*\.?\d+)$/.exec(value);
  const path = match ? match[1]! : value;
  const weight = match ? Number(match[2]) : 1;
  if (path === "") throw new InvalidArgumentError("a style needs a file path, e.g. --style painting.jpg:0.5");
  if (!(weight > 0)) throw new InvalidArgumentError(`the style weight in "${value}" must be greater than 0`);
  return [...previous, { path, weight }];
}

function numberIn(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (
      value.trim() === "" ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    ) {
      const kind = integer ? "a whole number" : "a number";
      throw new InvalidArgumentError(`${name} must be ${kind} from ${min} to ${max}; got "${value}"`);
    }
    return n;
  };
}

function layerList(value: string): string[] {
  const layers = value.split(",").map((s) => s.trim());
  if (layers.some((l) => !/^(relu|conv)\d_\d$/.test(l))) {
    throw new InvalidArgumentError(`layers must look like relu1_1,relu2_1 (comma-separated); got "${value}"`);
  }
  return layers;
}

export function buildCommand(): Command {
  return new Command("stylize")
    .description("Paint a photo in the style of one or more artworks (Gatys et al. neural style transfer).")
    .requiredOption("-c, --content <file>", "the photo to repaint")
    .requiredOption(
      "-s, --style <file[:weight]>",
      "a style image, repeatable; blend several with weights, e.g. --style a.jpg --style b.jpg:0.3",
      parseStyleArg,
    )
    .requiredOption("-o, --out <file>", "where to write the result (.png, .jpg or .webp)")
    .addOption(
      new Option(
        "-p, --preset <schedule>",
        "how long each scale runs and how many scales: fast (2 scales, a loose stop), balanced, hq (4 " +
          "scales, a tight stop; several times longer). Changes time and convergence, not the look: the " +
          "three give pictures closer to each other than two seeds do (docs/look.md)",
      )
        .choices(QUALITIES)
        .default(defaults.quality),
    )
    .option(
      "--size <px>",
      "long edge of the output in pixels",
      numberIn("--size", SIZE_LIMITS.min, SIZE_LIMITS.max, true),
      defaults.size,
    )
    .option(
      "--strength <0..1>",
      "style strength; 0.5 is the preset's balance",
      numberIn("--strength", 0, 1),
      defaults.strength,
    )
    .addOption(
      new Option(
        "--preserve-colors [mode]",
        "keep the photo's colours: luminance-only transfer or histogram matching",
      )
        .choices(["luminance", "histogram"])
        .preset("luminance"),
    )
    .addOption(
      new Option("--init <from>", "start from the photo or from noise")
        .choices(INIT_MODES)
        .default(defaults.init),
    )
    .option(
      "--seed <n>",
      "random seed (reported; the same seed reproduces a CPU run)",
      numberIn("--seed", 0, 2 ** 31 - 1, true),
    )
    .addOption(new Option("--optimizer <name>", "optimiser").choices(OPTIMIZERS).default(defaults.optimizer))
    .addOption(new Option("--pooling <kind>", "VGG pooling").choices(POOLINGS).default(defaults.pooling))
    .option(
      "--style-scale <x>",
      "style image size relative to the output",
      numberIn("--style-scale", 0.1, 4),
      defaults.styleScale,
    )
    .option("--frames <dir>", "write a preview frame into this folder as the run goes")
    .option("--weights <path>", "VGG19 weights: a Keras .h5 file or a TensorFlow.js model folder")
    .option("--content-layers <list>", "content layers, e.g. relu4_2", layerList)
    .option("--style-layers <list>", "style layers, e.g. relu1_1,relu2_1,relu3_1", layerList)
    .option("--steps <n>", "steps per scale (overrides the preset)", numberIn("--steps", 1, 10_000, true))
    .option("--scales <n>", "number of scales (overrides the preset)", numberIn("--scales", 1, 10, true))
    .addOption(new Option("--backend <name>", "force a backend").choices(BACKEND_ORDER))
    .option("-q, --quiet", "no progress bar", false);
}

/** Parses argv (without the node and script entries). Throws commander's errors for bad arguments. */
export function parseCliArgs(argv: readonly string[], command: Command = buildCommand()): CliRequest {
  command.parse([...argv], { from: "user" });
  const o = command.opts();
  return {
    content: o.content,
    styles: o.style,
    out: o.out,
    quality: o.preset,
    size: o.size,
    strength: o.strength,
    colorMode: o.preserveColors ?? "none",
    init: o.init,
    seed: o.seed,
    optimizer: o.optimizer,
    pooling: o.pooling,
    styleScale: o.styleScale,
    framesDir: o.frames,
    weights: o.weights,
    contentLayers: o.contentLayers,
    styleLayers: o.styleLayers,
    stepsPerScale: o.steps,
    scales: o.scales,
    backend: o.backend,
    quiet: o.quiet,
  };
}
