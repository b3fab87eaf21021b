import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { isNotFound, plainFsReason } from "../../fs-errors.js";
import type { VggWeights } from "../types.js";
import { InvalidWeightsError } from "./assemble.js";
import { loadKerasH5 } from "./keras-h5.js";
import { loadTfjsLayers } from "./tfjs-layers.js";

export { InvalidWeightsError } from "./assemble.js";
export { loadKerasH5 } from "./keras-h5.js";
export { loadTfjsLayers } from "./tfjs-layers.js";

/**
 * Where a weights file comes from: the one `npm run models` downloads ("downloaded"), or one the user named
 * (STYLIZE_WEIGHTS, `--weights`: "given"). Only the downloaded one is worth downloading again.
 */
export type WeightsOrigin = "downloaded" | "given";

/**
 * VGG19 weights are missing or unusable; the message says what to do: for the downloaded file, run
 * `npm run models`; for a user's own file, what is wrong with it (it is theirs, so never "delete it").
 */
export class WeightsUnavailableError extends Error {
  override name = "WeightsUnavailableError";
  constructor(
    readonly location: string,
    readonly reason: "missing" | "unreadable" | "invalid",
    readonly origin: WeightsOrigin,
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
  origin: WeightsOrigin,
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
 * The caller resolves the location and says where it comes from (src/config.ts: STYLIZE_WEIGHTS, else the
 * file `npm run models` downloads, see src/models/paths.ts).
 */
export async function loadVggWeights(location: string, origin: WeightsOrigin): Promise<VggWeights> {
  const unavailable = (reason: WeightsUnavailableError["reason"], detail: string, cause?: unknown) =>
    new WeightsUnavailableError(location, reason, origin, detail, { cause });
  let info: Stats;
  try {
    info = await stat(location);
  } catch (error) {
    throw unavailable(isNotFound(error) ? "missing" : "unreadable", plainFsReason(error), error);
  }
  try {
    return info.isDirectory() || location.endsWith(".json")
      ? await loadTfjsLayers(location)
      : await loadKerasH5(location);
  } catch (error) {
    if (!(error instanceof InvalidWeightsError)) throw error;
    // A tfjs folder's problem may be in its model.json or a shard: name that file.
    const detail =
      error.file === location ? error.detail : `${path.relative(location, error.file)}: ${error.detail}`;
    throw unavailable(error.unreadable ? "unreadable" : "invalid", detail, error);
  }
}
