import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { stylize } from "../src/engine/stylize.js";
import { gradientModeFor } from "../src/engine/tfjs/fast-grad.js";
import type { StylizeEvent } from "../src/engine/types.js";
import { objectiveGradient, patternImage, relativeError, stripesImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

/** The wasm backend is what most users without a GPU get: its kernels must cover everything the engine runs. */

beforeAll(async () => {
  await initBackend({ forced: "wasm" });
});

describe("engine on the wasm backend", () => {
  it("uses the fast gradients, and they equal the straightforward ones", () => {
    expect(gradientModeFor(tf.getBackend())).toBe("fast");
    const weights = tinyVggWeights({ layers: 5, channels: [6] });
    for (const pooling of ["max", "avg"] as const) {
      const fast = objectiveGradient(weights, "fast", pooling);
      const plain = objectiveGradient(weights, "plain", pooling);
      expect(relativeError(fast, plain)).toBeLessThan(1e-4);
      tf.dispose([fast, plain]);
    }
  });

  it("runs a small multi-scale stylisation with both optimisers and frees its tensors", async () => {
    const before = tf.memory().numTensors;
    for (const optimizer of ["adam", "lbfgs"] as const) {
      const events: StylizeEvent[] = [];
      for await (const event of stylize(tinyVggWeights({ layers: 5, channels: [4, 6, 8] }), {
        content: patternImage(40, 30),
        styles: [{ image: stripesImage(30, 30), weight: 1 }],
        size: 40,
        contentLayers: ["relu2_2"],
        styleLayers: ["relu1_1", "relu2_1", "relu3_1"].map((layer) => ({ layer, weight: 1 })),
        scales: 2,
        stepsPerScale: 5,
        optimizer,
        seed: 1,
      })) {
        events.push(event);
      }
      const steps = events.filter((e) => e.type === "step");
      expect(steps.at(-1)!.losses.total).toBeLessThan(steps[0]!.losses.total);
      expect(events.at(-1)).toMatchObject({ type: "done", image: { width: 40, height: 30 } });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
