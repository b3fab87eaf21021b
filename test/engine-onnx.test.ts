import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type BackendChoice, initBackend } from "../src/engine/backend.js";
import { createStyleNetwork } from "../src/engine/create-network.js";
import type { StyleNetwork } from "../src/engine/network.js";
import type { ObjectiveSpec } from "../src/engine/objective.js";
import { OrtNetwork } from "../src/engine/onnx/ort-network.js";
import { Adam } from "../src/engine/optimizers/adam.js";
import { stylize } from "../src/engine/stylize.js";
import { imageToTensor } from "../src/engine/tensor-image.js";
import { TfjsNetwork } from "../src/engine/tfjs/tfjs-network.js";
import type { Pooling, RgbImage } from "../src/engine/types.js";
import { meanAbsDifference, patternImage, relativeError, stripesImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

/**
 * The onnxruntime engine computes the objective with a hand-written backward pass (src/engine/onnx/
 * vgg-graphs.ts). It must agree with tfjs autodiff on the straightforward formulation, the reference, for
 * every feature the objective has: content on a ReLU and on a pre-activation layer, weighted style layers,
 * two style images blended, TV, both poolings, and odd edges that the 'valid' pools cut.
 */

let backend: BackendChoice;
beforeAll(async () => {
  backend = await initBackend({ forced: "onnxruntime" });
});

const weights = tinyVggWeights({ layers: 5, channels: [6, 8, 10], seed: 3 }); // to block3_conv1: two pools
const spec: ObjectiveSpec = {
  contentWeight: 2,
  styleWeight: 30,
  tvWeight: 0.5,
  contentLayers: ["relu2_2", "conv3_1"],
  styleLayers: [
    { layer: "relu1_1", weight: 0.5 },
    { layer: "relu2_1", weight: 1 },
    { layer: "conv3_1", weight: 2 },
  ],
};
const content = patternImage(21, 15); // odd edges: both pools drop a row and a column
const styles = [
  { image: stripesImage(26, 22), weight: 3 },
  { image: patternImage(18, 30, 5), weight: 1 },
];
const start = patternImage(21, 15, 4);

/** The full objective, and each term alone, so that no term's gradient hides under a larger one. */
const weightings: Record<string, Partial<ObjectiveSpec>> = {
  all: {},
  content: { styleWeight: 0, tvWeight: 0 },
  style: { contentWeight: 0, tvWeight: 0 },
  tv: { contentWeight: 0, styleWeight: 0 },
};

async function evaluate(network: StyleNetwork, image: RgbImage) {
  const objective = await network.objective(content, styles);
  const x = imageToTensor(image);
  const { terms, grad } = await objective.evaluate(x);
  objective.dispose();
  network.dispose();
  x.dispose();
  return { terms: Array.from(await terms.data()), grad, dispose: () => tf.dispose([terms, grad]) };
}

describe("onnxruntime engine", () => {
  it("runs on the onnxruntime backend with tfjs on stock wasm for the image", () => {
    expect(backend.name).toBe("onnxruntime");
    expect(backend.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe("wasm");
  });

  for (const pooling of ["avg", "max"] as Pooling[]) {
    for (const [name, weighting] of Object.entries(weightings)) {
      it(`equals tfjs autodiff: loss terms and gradient (${pooling} pooling, ${name} terms)`, async () => {
        const weighted = { ...spec, ...weighting };
        const onnx = await evaluate(await OrtNetwork.create(weights, weighted, pooling, 2), start);
        const reference = await evaluate(new TfjsNetwork(weights, weighted, pooling, "plain"), start);
        expect(reference.terms[0]).toBeGreaterThan(0);
        for (const [i, term] of reference.terms.entries()) {
          expect(Math.abs(onnx.terms[i]! - term)).toBeLessThanOrEqual(1e-4 * term);
        }
        expect(relativeError(onnx.grad, reference.grad)).toBeLessThan(1e-4);
        onnx.dispose();
        reference.dispose();
      });
    }
  }

  it("steps without leaking tensors, and lowers the loss", async () => {
    const network = await createStyleNetwork(backend, weights, spec, "avg");
    const objective = await network.objective(content, styles);
    const x = imageToTensor(start);
    const adam = new Adam(objective, x, { learningRate: 4, averageDecay: 0.5 });
    x.dispose();
    const first = await adam.step();
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 15; i++) {
      last = await adam.step();
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(last.total).toBeLessThan(first.total * 0.8);
    adam.dispose();
    objective.dispose();
    network.dispose();
  });

  it("paints the same bytes from the same seed and another picture from another (jitter on, 2 scales)", async () => {
    const before = tf.memory().numTensors;
    const paint = async (seed: number) => {
      const request = {
        content: patternImage(40, 30),
        styles,
        size: 40,
        ...spec,
        scales: 2,
        stepsPerScale: 12,
        previewEverySteps: 0,
        previewEverySeconds: 0,
        seed,
      };
      for await (const event of stylize(weights, request)) if (event.type === "done") return event.image;
      throw new Error("no result");
    };
    const [a, again, b] = [await paint(42), await paint(42), await paint(7777)];
    expect(Buffer.from(a.data).equals(Buffer.from(again.data))).toBe(true);
    expect(meanAbsDifference(a, b)).toBeGreaterThan(5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
