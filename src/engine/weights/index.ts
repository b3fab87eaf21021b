import { stat } from "node:fs/promises";
import type { VggWeights } from "../types.js";
import { InvalidWeightsError } from "./assemble.js";
import { loadKerasH5 } from "./keras-h5.js";
import { loadTfjsLayers } from "./tfjs-layers.js";

export { InvalidWeightsError } from "./assemble.js";
export { loadKerasH5 } from "./keras-h5.js";
export { loadTfjsLayers } from "./tfjs-layers.js";

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
 * The caller resolves the location (src/config.ts: STYLIZE_WEIGHTS, else the file `npm run models`
 * downloads, see src/models/paths.ts).
 */
export async function loadVggWeights(location: string): Promise<VggWeights> {
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
