import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { imageToTensor } from "../src/engine/tensor-image.js";
import { Vgg19Features } from "../src/engine/tfjs/vgg19.js";
import { patternImage } from "./engine-helpers.js";
import { tinyVggWeights } from "./fixtures/tiny-vgg.js";

beforeAll(async () => {
  await initBackend({ forced: "cpu" });
});

describe("Vgg19Features", () => {
  it("returns the requested layers at the right resolutions and frees its kernels on dispose", () => {
    const before = tf.memory().numTensors;
    const net = new Vgg19Features(tinyVggWeights({ layers: 5, channels: [4] }), {
      layers: ["relu1_1", "conv2_2", "relu3_1"],
      pooling: "max",
    });
    const image = imageToTensor(patternImage(20, 12));
    const features = net.features(image);
    expect(Object.keys(features).sort()).toEqual(["conv2_2", "relu1_1", "relu3_1"]);
    expect(features.relu1_1!.shape).toEqual([1, 12, 20, 4]);
    expect(features.conv2_2!.shape).toEqual([1, 6, 10, 4]);
    expect(features.relu3_1!.shape).toEqual([1, 3, 5, 4]);
    // conv is before the ReLU: it has negative values, the ReLU output has none.
    expect(tf.min(features.conv2_2!).dataSync()[0]).toBeLessThan(0);
    expect(tf.min(features.relu3_1!).dataSync()[0]).toBeGreaterThanOrEqual(0);
    tf.dispose([image, ...Object.values(features)]);
    net.dispose();
    // Only the two min() results above are left.
    expect(tf.memory().numTensors).toBe(before + 2);
  });

  it("applies Caffe preprocessing: RGB 0..255 in, BGR minus the ImageNet mean into block1_conv1", () => {
    const weights = tinyVggWeights({ layers: 1, channels: [3] });
    const w = weights.get("block1_conv1")!;
    const net = new Vgg19Features(weights, { layers: ["conv1_1"], pooling: "max" });
    const image = imageToTensor(patternImage(8, 8));
    tf.tidy(() => {
      const bgr = tf.sub(tf.reverse(image, -1), [103.939, 116.779, 123.68]);
      const kernel = tf.tensor4d(w.kernel, [...w.kernelShape]);
      const expected = tf.add(tf.conv2d(bgr as tf.Tensor4D, kernel, 1, "same"), tf.tensor1d(w.bias));
      const actual = net.features(image).conv1_1!;
      expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-3);
    });
    image.dispose();
    net.dispose();
  });

  it("pools with max or average as asked", () => {
    const weights = tinyVggWeights({ layers: 3, channels: [4] });
    const image = imageToTensor(patternImage(16, 16));
    const means = (["max", "avg"] as const).map((pooling) => {
      const net = new Vgg19Features(weights, { layers: ["relu2_1"], pooling });
      const mean = tf.tidy(() => tf.mean(net.features(image).relu2_1!).dataSync()[0]!);
      net.dispose();
      return mean;
    });
    expect(means[0]).not.toBeCloseTo(means[1]!, 3);
    image.dispose();
  });

  it("names the missing layer and the available ones when the weights stop early", () => {
    const make = () =>
      new Vgg19Features(tinyVggWeights({ layers: 8, channels: [4] }), {
        layers: ["relu1_1", "relu4_1"],
        pooling: "max",
      });
    expect(make).toThrow(/lack block4_conv1, needed for relu4_1/);
    expect(make).toThrow(/available: block1_conv1, block1_conv2, .*block3_conv4$/);
  });

  it("rejects unknown layer names and images too small for the deepest layer", () => {
    expect(
      () =>
        new Vgg19Features(tinyVggWeights({ layers: 2, channels: [4] }), {
          layers: ["relu9_1"],
          pooling: "max",
        }),
    ).toThrow(/unknown VGG19 layer "relu9_1"/);
    const net = new Vgg19Features(tinyVggWeights({ layers: 5, channels: [4] }), {
      layers: ["relu3_1"],
      pooling: "max",
    });
    const image = imageToTensor(patternImage(16, 3));
    expect(() => net.features(image)).toThrow(/too small.*at least 4 px/);
    image.dispose();
    net.dispose();
  });

  it("checks that layer shapes chain", () => {
    const weights = new Map(tinyVggWeights({ layers: 2, channels: [4] }));
    weights.set("block1_conv2", tinyVggWeights({ layers: 2, channels: [5] }).get("block1_conv2")!);
    expect(() => new Vgg19Features(weights, { layers: ["relu1_2"], pooling: "max" })).toThrow(
      /block1_conv2: expects 5 input channels but the previous layer gives 4/,
    );
  });
});
