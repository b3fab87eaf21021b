import { readFileSync, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { isNotFound, plainFsReason } from "../../fs-errors.js";
import type { VggWeights } from "../types.js";
import { InvalidWeightsError } from "./assemble.js";
import { loadKerasH5 } from "./keras-h5.js";
import { parseManifest } from "./manifest.js";
import { manifestsDir, modelsDir } from "./paths.js";
import { loadTfjsLayers } from "./tfjs-layers.js";

export { InvalidWeightsError } from "./assemble.js";
export { loadKerasH5 } from "./keras-h5.js";
export { manifestsDir, modelsDir, repoRoot } from "./paths.js";
export { loadTfjsLayers } from "./tfjs-layers.js";

/** The file `npm run models` downloads for the engine: entry `vgg19-notop` of models/vgg19.json. */
const VGG19_FILE = "vgg19-notop";

/** Where the VGG19 weights are when the user has not named a file: the manifest's dest under modelsDir(). */
export function defaultWeightsLocation(env: NodeJS.ProcessEnv = process.env): string {
  const manifestFile = path.join(manifestsDir(), "vgg19.json");
  const manifest = parseManifest(JSON.parse(readFileSync(manifestFile, "utf8")), manifestFile);
  const entry = manifest.files.find((f) => f.name === VGG19_FILE);
  if (!entry) throw new Error(`${manifestFile} has no "${VGG19_FILE}" entry`);
  return path.join(modelsDir(env), entry.dest);
}

/**
 * VGG19 weights are missing or unusable; the message says what to do. Only the file `npm run models`
 * downloads ("downloaded") is worth downloading again; a file the user named ("given") is theirs, so the
 * message says what is wrong with it instead.
 */
export class WeightsUnavailableError extends Error {
  override name = "WeightsUnavailableError";
  constructor(
    readonly location: string,
    readonly reason: "missing" | "unreadable" | "invalid",
    readonly origin: "downloaded" | "given",
    detail: string,
    options?: ErrorOptions,
  ) {
    super(weightsMessage(location, reason, origin, detail), options);
  }
}

const EXPECTED_FORMAT =
  "VGG19 weights must be a Keras .h5 file or a TensorFlow.js layers-model folder (or its model.json) " +
  "holding the conv layers from block1_conv1 on";

function weightsMessage(
  location: string,
  reason: WeightsUnavailableError["reason"],
  origin: WeightsUnavailableError["origin"],
  detail: string,
): string {
  if (origin === "downloaded") {
    if (reason === "missing")
      return `VGG19 weights not found at ${location}. Run \`npm run models\` to download them (about 80 MB, once).`;
    if (reason === "invalid")
      return `The downloaded VGG19 weights at ${location} cannot be used: ${detail}. Run \`npm run models\` to replace them with a verified copy.`;
    return `Cannot read the VGG19 weights at ${location}: ${detail}.`;
  }
  if (reason === "missing") return `The VGG19 weights file ${location} ${detail}. Check the path.`;
  if (reason === "invalid")
    return `The VGG19 weights file ${location} cannot be used: ${detail}. ${EXPECTED_FORMAT}.`;
  return `Cannot read the VGG19 weights file ${location}: ${detail}.`;
}

/**
 * Load VGG19 conv weights from a Keras .h5 file or a TensorFlow.js layers model (folder or model.json).
 * Without a location, loads the file `npm run models` downloads.
 */
export async function loadVggWeights(location?: string): Promise<VggWeights> {
  const origin = location === undefined ? "downloaded" : "given";
  const file = location ?? defaultWeightsLocation();
  const unavailable = (reason: WeightsUnavailableError["reason"], detail: string, cause?: unknown) =>
    new WeightsUnavailableError(file, reason, origin, detail, { cause });
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    throw unavailable(isNotFound(error) ? "missing" : "unreadable", plainFsReason(error), error);
  }
  try {
    return info.isDirectory() || file.endsWith(".json")
      ? await loadTfjsLayers(file)
      : await loadKerasH5(file);
  } catch (error) {
    if (!(error instanceof InvalidWeightsError)) throw error;
    // A tfjs folder's problem may be in its model.json or a shard: name that file.
    const detail = error.file === file ? error.detail : `${path.relative(file, error.file)}: ${error.detail}`;
    throw unavailable(error.unreadable ? "unreadable" : "invalid", detail, error);
  }
}
