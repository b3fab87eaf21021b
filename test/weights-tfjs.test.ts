import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidWeightsError } from "../src/engine/weights/assemble.js";
import { loadTfjsLayers } from "../src/engine/weights/tfjs-layers.js";
import { maxWeightDifference, tinyVggWeights, writeTfjsFolder } from "./fixtures/tiny-vgg.js";
import { hasReference, REFERENCE_MODEL, warnSkipping } from "./helpers/reference.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "stylize-tfjs-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weights = tinyVggWeights({ layers: 5, channels: [4, 8, 6], seed: 5 });
const sub = (name: string) => path.join(dir, name);

describe("loadTfjsLayers", () => {
  it("reads a float32 folder exactly, from the folder or its model.json", async () => {
    const { modelJson } = await writeTfjsFolder(weights, sub("plain"));
    for (const location of [sub("plain"), modelJson]) {
      const loaded = await loadTfjsLayers(location);
      expect([...loaded.keys()]).toEqual([...weights.keys()]);
      expect(loaded.get("block2_conv1")!.kernelShape).toEqual([3, 3, 4, 8]);
      expect(maxWeightDifference(weights, loaded)).toBe(0);
    }
  });

  it("joins weights split across several shards", async () => {
    const { shards } = await writeTfjsFolder(weights, sub("sharded"), { shardBytes: 1000 });
    expect(shards.length).toBeGreaterThan(3);
    expect(maxWeightDifference(weights, await loadTfjsLayers(sub("sharded")))).toBe(0);
  });

  it("maps prefixed names with :0 suffixes", async () => {
    await writeTfjsFolder(weights, sub("prefixed"), { namePrefix: "vgg19/", nameSuffix: ":0" });
    expect(maxWeightDifference(weights, await loadTfjsLayers(sub("prefixed")))).toBe(0);
  });

  it.each([
    ["uint8", 0.02],
    ["uint16", 1e-4],
    ["float16", 2e-3],
  ] as const)("dequantises %s weights within %d", async (quantize, tolerance) => {
    await writeTfjsFolder(weights, sub(quantize), { quantize });
    const loaded = await loadTfjsLayers(sub(quantize));
    const difference = maxWeightDifference(weights, loaded);
    expect(difference).toBeGreaterThan(0); // really was quantised
    expect(difference).toBeLessThan(tolerance);
  });

  it("reads a partial model (blocks 1–2 only)", async () => {
    const partial = new Map([...weights].slice(0, 4));
    await writeTfjsFolder(partial, sub("partial"));
    const loaded = await loadTfjsLayers(sub("partial"));
    expect([...loaded.keys()]).toEqual(["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"]);
  });

  it("refuses a missing shard, naming it", async () => {
    const { shards } = await writeTfjsFolder(weights, sub("missing-shard"), { shardBytes: 1000 });
    await rm(shards[1]!);
    await expect(loadTfjsLayers(sub("missing-shard"))).rejects.toThrow(
      /model\.json: weight shard group1-shard2of\d+\.bin \(holding block1_conv1, .*\) does not exist/,
    );
  });

  it("refuses a short shard", async () => {
    const { shards } = await writeTfjsFolder(weights, sub("short-shard"));
    await truncate(shards[0]!, 100);
    const error = await loadTfjsLayers(sub("short-shard")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidWeightsError);
    expect((error as Error).message).toMatch(/have 100 bytes but the manifest needs \d+ \(truncated\?\)/);
  });

  it("refuses a gap in the layers, naming the missing one", async () => {
    const gap = new Map(weights);
    gap.delete("block1_conv2");
    await writeTfjsFolder(gap, sub("gap"));
    await expect(loadTfjsLayers(sub("gap"))).rejects.toThrow(
      /layer block1_conv2 is missing but block2_conv1 is present/,
    );
  });

  it("refuses a bias of the wrong size, naming the layer", async () => {
    const bad = new Map(weights);
    const conv = weights.get("block2_conv2")!;
    bad.set("block2_conv2", { ...conv, bias: conv.bias.subarray(0, 3) });
    await writeTfjsFolder(bad, sub("bias"));
    await expect(loadTfjsLayers(sub("bias"))).rejects.toThrow(
      /layer block2_conv2: bias shape is \[3\], expected \[8\]/,
    );
  });

  it("refuses a model.json that is not a layers model", async () => {
    await writeTfjsFolder(weights, sub("broken-json"));
    await writeFile(sub("broken-json/model.json"), '{"modelTopology": {}}');
    await expect(loadTfjsLayers(sub("broken-json"))).rejects.toThrow(
      /model\.json: not a TensorFlow\.js layers model/,
    );
    await writeFile(sub("broken-json/model.json"), "{ not json");
    await expect(loadTfjsLayers(sub("broken-json"))).rejects.toThrow(/model\.json: not valid JSON/);
  });

  it("refuses a folder without model.json", async () => {
    await expect(loadTfjsLayers(dir)).rejects.toThrow(/model\.json: the file does not exist/);
  });
});

// Real Keras ImageNet weights (blocks 1–3) kept beside the checkout; see ../shared/reference/SOURCES.md.
const FULL_REFERENCE = path.join(path.dirname(REFERENCE_MODEL), "model.json");
if (!hasReference) {
  warnSkipping("real VGG19 weight tests", `${REFERENCE_MODEL} is absent (it lives outside the repo)`);
}

describe.skipIf(!hasReference)("real VGG19 reference weights", () => {
  it("loads block1_conv1..block3_conv4 with the real shapes", async () => {
    const loaded = await loadTfjsLayers(REFERENCE_MODEL);
    expect([...loaded].map(([name, conv]) => [name, conv.kernelShape])).toEqual([
      ["block1_conv1", [3, 3, 3, 64]],
      ["block1_conv2", [3, 3, 64, 64]],
      ["block2_conv1", [3, 3, 64, 128]],
      ["block2_conv2", [3, 3, 128, 128]],
      ["block3_conv1", [3, 3, 128, 256]],
      ["block3_conv2", [3, 3, 256, 256]],
      ["block3_conv3", [3, 3, 256, 256]],
      ["block3_conv4", [3, 3, 256, 256]],
    ]);
    // The first bytes of the first shard are block1_conv1's first kernel value.
    const shard = await readFile(path.join(path.dirname(REFERENCE_MODEL), "group1-shard1of1"));
    expect(loaded.get("block1_conv1")!.kernel[0]).toBe(shard.readFloatLE(0));
    expect(loaded.get("block3_conv4")!.bias.length).toBe(256);
  });

  it("refuses the unmodified model.json, whose block 4–5 shards are absent", async () => {
    await expect(loadTfjsLayers(FULL_REFERENCE)).rejects.toThrow(
      /weight shard group9-shard1of2 \(holding block4_conv1\) does not exist/,
    );
  });
});
