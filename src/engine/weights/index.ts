import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseManifest } from "../../models/manifest.js";
import { manifestsDir, modelsDir } from "../../models/paths.js";
import type { VggWeights } from "../types.js";
import { InvalidWeightsError } from "./assemble.js";
import { loadKerasH5 } from "./keras-h5.js";
import { loadTfjsLayers } from "./tfjs-layers.js";

export { manifestsDir, modelsDir, repoRoot } from "../../models/paths.js";
export { InvalidWeightsError } from "./assemble.js";
export { loadKerasH5 } from "./keras-h5.js";
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

/** VGG19 weights are missing or unusable; the message says what to run. */
export class WeightsUnavailableError extends Error {
  override name = "WeightsUnavailableError";
  constructor(
    readonly location: string,
    readonly reason: "missing" | "invalid",
    detail: string,
    options?: ErrorOptions,
  ) {
    const fix =
      reason === "missing"
        ? "Run `npm run models` to download them (about 80 MB, once)."
        : "Delete it and run `npm run models` to download a verified copy, or point to another weights file.";
    super(`VGG19 weights ${detail}. ${fix}`, options);
  }
}

/**
 * Load VGG19 conv weights from a Keras .h5 file or a TensorFlow.js layers model (folder or model.json).
 * Defaults to the file `npm run models` downloads.
 */
export async function loadVggWeights(location: string = defaultWeightsLocation()): Promise<VggWeights> {
  const info = await stat(location).catch(() => undefined);
  if (!info) throw new WeightsUnavailableError(location, "missing", `not found at ${location}`);
  try {
    return info.isDirectory() || location.endsWith(".json")
      ? await loadTfjsLayers(location)
      : await loadKerasH5(location);
  } catch (error) {
    if (!(error instanceof InvalidWeightsError)) throw error;
    throw new WeightsUnavailableError(
      location,
      "invalid",
      `at ${location} cannot be used: ${error.message}`,
      {
        cause: error,
      },
    );
  }
}
