import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import h5wasm from "h5wasm/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidWeightsError } from "../src/engine/weights/assemble.js";
import { loadKerasH5 } from "../src/engine/weights/keras-h5.js";
import { tinyVggWeights, writeKerasH5 } from "./fixtures/tiny-vgg.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "stylize-h5-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weights = tinyVggWeights({ layers: 6, channels: [4, 8, 6], seed: 11 });

describe("loadKerasH5", () => {
  it.each([
    ["weights-only save, Keras 2 names", { layout: "weights", naming: "keras2" }],
    ["full-model save (model_weights group)", { layout: "model", naming: "keras2" }],
    ["Keras 1 names like the published VGG19 file", { layout: "weights", naming: "keras1" }],
  ] as const)("reads a %s exactly", async (_label, options) => {
    const file = await writeKerasH5(
      weights,
      path.join(dir, `${options.layout}-${options.naming}.h5`),
      options,
    );
    const loaded = await loadKerasH5(file);
    expect([...loaded.keys()]).toEqual([
      "block1_conv1",
      "block1_conv2",
      "block2_conv1",
      "block2_conv2",
      "block3_conv1",
      "block3_conv2",
    ]);
    expect(loaded.get("block1_conv1")!.kernelShape).toEqual([3, 3, 3, 4]);
    expect(loaded.get("block2_conv1")!.kernelShape).toEqual([3, 3, 4, 8]);
    expect(loaded.get("block3_conv2")!.kernelShape).toEqual([3, 3, 6, 6]);
    for (const [name, conv] of weights) {
      expect(loaded.get(name)!.kernel).toEqual(conv.kernel);
      expect(loaded.get(name)!.bias).toEqual(conv.bias);
    }
  });

  it("reads from an in-memory buffer", async () => {
    const file = await writeKerasH5(weights, path.join(dir, "buffer.h5"));
    const loaded = await loadKerasH5(await readFile(file));
    expect(loaded.get("block3_conv2")!.bias).toEqual(weights.get("block3_conv2")!.bias);
  });

  it("maps by name, not by position: a file listing layers in a shuffled order still loads right", async () => {
    const file = path.join(dir, "shuffled.h5");
    await writeKerasH5(weights, file);
    await h5wasm.ready;
    const h5 = new h5wasm.File(file, "a");
    h5.delete_attribute("layer_names");
    const shuffled = [
      "block2_conv1",
      "input_1",
      "block1_conv2",
      "block3_conv2",
      "block1_conv1",
      "block3_conv1",
    ];
    h5.create_attribute("layer_names", [...shuffled, "block2_conv2"], null, "S12");
    // weight_names in reverse order too: bias first.
    const g = h5.get("block1_conv1") as InstanceType<typeof h5wasm.Group>;
    g.delete_attribute("weight_names");
    g.create_attribute("weight_names", ["block1_conv1/bias:0", "block1_conv1/kernel:0"], null, "S21");
    h5.close();
    const loaded = await loadKerasH5(file);
    expect([...loaded.keys()][0]).toBe("block1_conv1");
    expect(loaded.get("block1_conv1")!.kernel).toEqual(weights.get("block1_conv1")!.kernel);
    expect(loaded.get("block1_conv1")!.bias).toEqual(weights.get("block1_conv1")!.bias);
  });

  it("refuses a file that is not HDF5", async () => {
    const file = path.join(dir, "not.h5");
    await writeFile(file, "<html>404 Not Found</html>");
    await expect(loadKerasH5(file)).rejects.toThrow(/not\.h5: not an HDF5 file/);
  });

  it("refuses a truncated file, saying so", async () => {
    const file = await writeKerasH5(weights, path.join(dir, "cut.h5"));
    const { size } = await stat(file);
    await truncate(file, Math.floor(size * 0.6));
    const error = await loadKerasH5(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidWeightsError);
    expect((error as Error).message).toMatch(/cut\.h5: the file is truncated/);
  });

  it("refuses a file with a layer missing in the middle, naming it", async () => {
    const file = path.join(dir, "gap.h5");
    await writeKerasH5(weights, file);
    const h5 = new h5wasm.File(file, "a");
    h5.delete_attribute("layer_names");
    h5.create_attribute(
      "layer_names",
      ["block1_conv1", "block1_conv2", "block2_conv2", "block3_conv1"],
      null,
      "S12",
    );
    h5.close();
    await expect(loadKerasH5(file)).rejects.toThrow(
      /gap\.h5: layer block2_conv1 is missing but block2_conv2 is present/,
    );
  });

  it("refuses a kernel of the wrong shape, naming the layer", async () => {
    const bad = new Map(weights);
    const conv = weights.get("block1_conv2")!;
    bad.set("block1_conv2", { ...conv, kernelShape: [1, 9, 4, 4] });
    const file = await writeKerasH5(bad, path.join(dir, "shape.h5"));
    await expect(loadKerasH5(file)).rejects.toThrow(
      /shape\.h5: layer block1_conv2: kernel shape is \[1,9,4,4\]/,
    );
  });

  it("refuses channels that do not chain", async () => {
    const other = tinyVggWeights({ layers: 2, channels: [5], seed: 2 });
    const bad = new Map(weights);
    bad.set("block1_conv2", other.get("block1_conv2")!);
    const file = await writeKerasH5(bad, path.join(dir, "chain.h5"));
    await expect(loadKerasH5(file)).rejects.toThrow(
      /chain\.h5: layer block1_conv2: kernel has 5 input channels but the previous layer gives 4/,
    );
  });

  it("refuses an HDF5 file that is not a Keras weights file", async () => {
    const file = path.join(dir, "plain.h5");
    const h5 = new h5wasm.File(file, "w");
    h5.create_dataset({ name: "data", data: new Float32Array(4) });
    h5.close();
    await expect(loadKerasH5(file)).rejects.toThrow(/plain\.h5: no layer_names attribute/);
  });

  it("refuses a missing file", async () => {
    await expect(loadKerasH5(path.join(dir, "nope.h5"))).rejects.toThrow(/nope\.h5: the file does not exist/);
  });
});
