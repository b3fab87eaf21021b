import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidWeightsError, loadVggWeights, WeightsUnavailableError } from "../src/engine/weights/index.js";
import { maxWeightDifference, tinyVggWeights, writeKerasH5, writeTfjsFolder } from "./fixtures/tiny-vgg.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "stylize-load-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weights = tinyVggWeights({ layers: 3, seed: 3 });

describe("loadVggWeights", () => {
  it("loads a Keras .h5 file, a tfjs folder and a model.json path alike", async () => {
    const h5 = await writeKerasH5(weights, path.join(dir, "vgg.h5"));
    const { modelJson } = await writeTfjsFolder(weights, path.join(dir, "tfjs"));
    for (const location of [h5, path.join(dir, "tfjs"), modelJson]) {
      expect(maxWeightDifference(weights, await loadVggWeights(location, "given"))).toBe(0);
    }
  });

  it("tells the user to run `npm run models` when the downloaded weights are missing", async () => {
    const location = path.join(dir, "models", "vgg19", "weights.h5");
    const error = await loadVggWeights(location, "downloaded").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect(error).toMatchObject({ reason: "missing", origin: "downloaded", location });
    expect((error as Error).message).toBe(
      `VGG19 weights not found at ${location}. Run \`npm run models\` to download them (about 80 MB, once).`,
    );
  });

  it("offers a fresh download for a corrupt downloaded file", async () => {
    const location = path.join(dir, "models-corrupt", "weights.h5");
    await mkdir(path.dirname(location), { recursive: true });
    await writeFile(location, "<html>Access denied</html>");
    const error = await loadVggWeights(location, "downloaded").catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "invalid", origin: "downloaded" });
    expect((error as Error).cause).toBeInstanceOf(InvalidWeightsError);
    expect((error as Error).message).toBe(
      `The downloaded VGG19 weights at ${location} cannot be used: not an HDF5 file (no HDF5 signature ` +
        "found). Run `npm run models` to replace them with a verified copy.",
    );
  });

  it("says a user's missing file does not exist, without offering a download", async () => {
    const missing = path.join(dir, "nowhere", "vgg.h5");
    const error = await loadVggWeights(missing, "given").catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "missing", origin: "given", location: missing });
    expect((error as Error).message).toBe(
      `The VGG19 weights file ${missing} does not exist. Check the path.`,
    );
  });

  it("says what is wrong with a user's own file, and never to delete it", async () => {
    const bad = path.join(dir, "bad.h5");
    await writeFile(bad, "Access denied");
    const error = await loadVggWeights(bad, "given").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect(error).toMatchObject({ reason: "invalid", origin: "given" });
    const message = (error as Error).message;
    expect(message).toBe(
      `The VGG19 weights file ${bad} cannot be used: not an HDF5 file (no HDF5 signature found). ` +
        "VGG19 weights must be a Keras .h5 file or a TensorFlow.js layers-model folder (or its model.json) " +
        "holding the conv layers from block1_conv1 on.",
    );
    expect(message).not.toMatch(/delete|npm run models/i);
  });

  it("names the missing shard of a user's tfjs folder in plain words", async () => {
    const folder = path.join(dir, "tfjs-broken");
    const { shards } = await writeTfjsFolder(weights, folder);
    const shard = path.basename(shards[0]!);
    await rm(path.join(folder, shard));
    const message = await loadVggWeights(folder, "given").catch((e: Error) => e.message);
    expect(message).toMatch(
      new RegExp(
        `^The VGG19 weights file ${folder} cannot be used: model\\.json: weight shard ${shard} .* does not exist\\.`,
      ),
    );
    expect(message).not.toMatch(/ENOENT/);
  });
});
