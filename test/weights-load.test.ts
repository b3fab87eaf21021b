import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
      expect(maxWeightDifference(weights, await loadVggWeights(location))).toBe(0);
    }
  });

  it("tells the user to run `npm run models` when the weights are missing", async () => {
    const missing = path.join(dir, "nowhere", "vgg.h5");
    const error = await loadVggWeights(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect(error).toMatchObject({ reason: "missing", location: missing });
    expect((error as Error).message).toBe(
      `VGG19 weights not found at ${missing}. Run \`npm run models\` to download them (about 80 MB, once).`,
    );
  });

  it("says what is wrong with a corrupt file, and how to fix it", async () => {
    const bad = path.join(dir, "bad.h5");
    await writeFile(bad, "Access denied");
    const error = await loadVggWeights(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect((error as WeightsUnavailableError).reason).toBe("invalid");
    expect((error as Error).cause).toBeInstanceOf(InvalidWeightsError);
    expect((error as Error).message).toMatch(
      /bad\.h5: not an HDF5 file .*Delete it and run `npm run models`/,
    );
  });
});
