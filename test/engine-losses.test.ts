import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import type { ObjectiveSpec } from "../src/engine/objective.js";
import { imageToTensor } from "../src/engine/tensor-image.js";
import { blendGrams, gramMatrix } from "../src/engine/tfjs/gram.js";
import {
  computeTargets,
  disposeTargets,
  styleTransferObjective,
  totalVariation,
} from "../src/engine/tfjs/losses.js";
import { Vgg19Features } from "../src/engine/tfjs/vgg19.js";
import { patternImage, relativeError, stripesImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

const LAYERS = ["relu1_1", "relu2_1", "relu2_2", "relu3_1"];
let net: Vgg19Features;
let maxPoolNet: Vgg19Features;

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
  net = new Vgg19Features(tinyVggWeights({ layers: 5, channels: [6] }), { layers: LAYERS, pooling: "avg" });
  maxPoolNet = new Vgg19Features(tinyVggWeights({ layers: 5, channels: [6] }), {
    layers: LAYERS,
    pooling: "max",
  });
});

afterAll(() => {
  net.dispose();
  maxPoolNet.dispose();
});

const base: ObjectiveSpec = {
  contentWeight: 0,
  styleWeight: 0,
  tvWeight: 0,
  contentLayers: ["relu2_2"],
  styleLayers: [
    { layer: "relu1_1", weight: 1 },
    { layer: "relu2_1", weight: 0.5 },
    { layer: "relu3_1", weight: 2 },
  ],
};

/**
 * Compares tf.grad of the objective with central differences at the pixels where the gradient is largest
 * (plus a few spread-out ones), where float32 round-off is small relative to the value.
 */
function checkGradient(spec: ObjectiveSpec, network = net): number {
  const content = imageToTensor(patternImage(16, 12));
  const style = imageToTensor(stripesImage(20, 20));
  const targets = computeTargets(network, spec, content, [{ image: style, weight: 1 }]);
  const objective = styleTransferObjective(network, spec, targets);
  const x = imageToTensor(patternImage(16, 12, 5));
  const loss = (v: tf.Tensor4D) => tf.tidy(() => objective(v).total.dataSync()[0]!);
  const grad = tf.grad((v) => objective(v as tf.Tensor4D).total)(x);
  const g = grad.dataSync();
  const order = [...g.keys()].sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!));
  const pixels = [
    ...order.slice(0, 4),
    order[Math.floor(order.length / 10)]!,
    order[Math.floor(order.length / 5)]!,
  ];
  const values = x.dataSync();
  const h = 0.25;
  let worst = 0;
  for (const i of pixels) {
    const at = (delta: number) => {
      const shifted = values.slice();
      shifted[i]! += delta;
      const v = tf.tensor4d(shifted, x.shape);
      const value = loss(v);
      v.dispose();
      return value;
    };
    const numeric = (at(h) - at(-h)) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - g[i]!) / Math.abs(g[i]!));
  }
  tf.dispose([content, style, x, grad]);
  disposeTargets(targets);
  return worst;
}

describe("losses", () => {
  it("content loss gradient matches central differences", () => {
    expect(checkGradient({ ...base, contentWeight: 1 })).toBeLessThan(0.02);
  });

  it("style loss gradient matches central differences", () => {
    expect(checkGradient({ ...base, styleWeight: 1e3 })).toBeLessThan(0.02);
  });

  it("style and content gradients match central differences through max pooling too", () => {
    expect(checkGradient({ ...base, contentWeight: 1, styleWeight: 1e3 }, maxPoolNet)).toBeLessThan(0.02);
  });

  it("total variation gradient matches central differences", () => {
    expect(checkGradient({ ...base, tvWeight: 1 })).toBeLessThan(0.02);
  });

  it("the weighted total is the sum of the parts, each scaled by its weight", () => {
    const spec = { ...base, contentWeight: 2, styleWeight: 100, tvWeight: 0.01 };
    const content = imageToTensor(patternImage(16, 12));
    const style = imageToTensor(stripesImage(20, 20));
    const targets = computeTargets(net, spec, content, [{ image: style, weight: 1 }]);
    const parts = tf.tidy(() => {
      const terms = styleTransferObjective(net, spec, targets)(imageToTensor(patternImage(16, 12, 9)));
      return [terms.total, terms.content, terms.style, terms.tv].map((t) => t.dataSync()[0]!);
    });
    const [total, c, s, tv] = parts as [number, number, number, number];
    expect(c).toBeGreaterThan(0);
    expect(s).toBeGreaterThan(0);
    expect(tv).toBeGreaterThan(0);
    expect(Math.abs(total - (c + s + tv)) / total).toBeLessThan(1e-6);
    // At the content image itself, the content term vanishes.
    const atContent = tf.tidy(
      () => styleTransferObjective(net, spec, targets)(content).content.dataSync()[0],
    );
    expect(atContent).toBe(0);
    tf.dispose([content, style]);
    disposeTargets(targets);
  });

  it("blends several style images' Gram targets by their weights, whatever their sizes", () => {
    const spec = { ...base, styleWeight: 1 };
    const content = imageToTensor(patternImage(16, 12));
    const a = imageToTensor(stripesImage(20, 20));
    const b = imageToTensor(patternImage(28, 16, 4));
    const both = computeTargets(net, spec, content, [
      { image: a, weight: 3 },
      { image: b, weight: 1 },
    ]);
    const onlyA = computeTargets(net, spec, content, [{ image: a, weight: 1 }]);
    const onlyB = computeTargets(net, spec, content, [{ image: b, weight: 1 }]);
    for (const { layer } of spec.styleLayers) {
      tf.tidy(() => {
        const expected = tf.add(tf.mul(onlyA.style.get(layer)!, 0.75), tf.mul(onlyB.style.get(layer)!, 0.25));
        const actual = both.style.get(layer)!;
        expect(relativeError(actual, expected)).toBeLessThan(1e-5);
      });
    }
    for (const t of [both, onlyA, onlyB]) disposeTargets(t);
    tf.dispose([content, a, b]);
  });

  it("normalises Gram matrices so that a tiled (larger) image has the same Gram as its tile", () => {
    tf.tidy(() => {
      const tile = tf.tensor4d(
        Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => Math.sin(i)),
        [1, 4, 4, 3],
      );
      const tiled = tf.tile(tile, [1, 3, 2, 1]) as tf.Tensor4D;
      const a = gramMatrix(tile, "fast");
      const b = gramMatrix(tiled, "fast");
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
    });
  });

  it("blends the Gram targets of several styles with normalised weights", () => {
    tf.tidy(() => {
      const a = tf.fill([2, 2], 1) as tf.Tensor2D;
      const b = tf.fill([2, 2], 4) as tf.Tensor2D;
      expect(
        Array.from(
          blendGrams([
            { gram: a, weight: 3 },
            { gram: b, weight: 1 },
          ]).dataSync(),
        ),
      ).toEqual([1.75, 1.75, 1.75, 1.75]);
    });
  });

  it("total variation is zero on a flat image and grows with edges", () => {
    tf.tidy(() => {
      expect(totalVariation(tf.fill([1, 5, 5, 3], 7) as tf.Tensor4D).dataSync()[0]).toBe(0);
      // One vertical edge of height 10 across all rows: mean of dx² over H×(W-1)×3 = 100 / 4.
      const edge = tf.concat([tf.zeros([1, 5, 2, 3]), tf.fill([1, 5, 3, 3], 10)], 2) as tf.Tensor4D;
      expect(totalVariation(edge).dataSync()[0]).toBeCloseTo(25, 5);
    });
  });
});
