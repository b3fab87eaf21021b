import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackendChoice, initBackend } from "../src/engine/backend.js";
import type { ObjectiveSpec } from "../src/engine/objective.js";
import { resolveOptions } from "../src/engine/options.js";
import { leaseNetwork, releaseWarm, warmUp } from "../src/engine/warm.js";
import { patternImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

/** The warm engine: the usual objective's network is built once and served to every run that fits it. */

const weights = tinyVggWeights({ layers: 4, channels: [6, 8], seed: 3 });
const layers = {
  contentLayers: ["relu2_1"],
  styleLayers: [
    { layer: "relu1_1", weight: 1 },
    { layer: "relu2_1", weight: 1 },
  ],
};
const image = patternImage(8, 8);

function specFor(strength: number): ObjectiveSpec {
  const o = resolveOptions({ content: image, styles: [{ image, weight: 1 }], strength, ...layers });
  return o;
}

let backend: BackendChoice;
beforeAll(async () => {
  backend = await initBackend();
});
afterAll(() => releaseWarm());

describe("warm engine", () => {
  it("serves the warmed network to runs of the same objective and builds (and frees) others", async () => {
    const before = tf.memory().numTensors;
    await warmUp(weights, layers);
    const warmTensors = tf.memory().numTensors;

    const first = await leaseNetwork(backend, weights, specFor(0.5), "avg");
    const second = await leaseNetwork(backend, weights, specFor(0.5), "avg");
    expect(second.network).toBe(first.network);
    first.release();
    second.release();
    // Still usable after its runs released it.
    const objective = await first.network.objective(image, [{ image, weight: 1 }]);
    objective.dispose();
    expect(tf.memory().numTensors).toBe(warmTensors);

    // Another strength (another style weight) or other weights: a network of its own, freed on release.
    for (const lease of [
      await leaseNetwork(backend, weights, specFor(0.9), "avg"),
      await leaseNetwork(
        backend,
        tinyVggWeights({ layers: 4, channels: [6, 8], seed: 3 }),
        specFor(0.5),
        "avg",
      ),
    ]) {
      expect(lease.network).not.toBe(first.network);
      lease.release();
    }
    expect(tf.memory().numTensors).toBe(warmTensors);

    releaseWarm();
    expect(tf.memory().numTensors).toBe(before);
  });
});
