import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/engine/backend.js";
import { stylize } from "../src/engine/stylize.js";
import type { LossBreakdown, RgbImage, VggWeights } from "../src/engine/types.js";
import { loadTfjsLayers } from "../src/engine/weights/tfjs-layers.js";
import { hasReference, REFERENCE_DIR, REFERENCE_MODEL, warnSkipping } from "./helpers/reference.js";

/**
 * The engine on the real ImageNet VGG19 weights (blocks 1–3, all that ../shared/reference holds) with a
 * real photo and painting: catches what random tiny networks cannot, such as wrong preprocessing or loss
 * scales that make the defaults useless. Skipped when the reference data is absent.
 */
if (!hasReference) {
  warnSkipping("engine-reference tests", `${REFERENCE_MODEL} is absent (real VGG19 blocks 1–3 needed).`);
}

async function load(file: string, longEdge: number): Promise<RgbImage> {
  const { data, info } = await sharp(path.join(REFERENCE_DIR, "images", file))
    .removeAlpha()
    .resize(longEdge, longEdge, { fit: "inside" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

describe.skipIf(!hasReference)("engine with the real VGG19 weights", () => {
  let weights: VggWeights;
  beforeAll(async () => {
    await initBackend({ forced: "wasm" });
    weights = await loadTfjsLayers(REFERENCE_MODEL);
  });

  it("with the default loss weights, a short run trades a little content for most of the style gap", async () => {
    const content = await load("content/tubingen.jpg", 64);
    const style = await load("style/starry_night.jpg", 64);
    const steps: LossBreakdown[] = [];
    for await (const event of stylize(weights, {
      content,
      styles: [{ image: style, weight: 1 }],
      size: 48,
      // relu3_2 stands in for relu4_2, and three style layers for five: blocks 4–5 are not in the reference data.
      contentLayers: ["relu3_2"],
      styleLayers: ["relu1_1", "relu2_1", "relu3_1"].map((layer) => ({ layer, weight: 1 })),
      scales: 2,
      stepsPerScale: 25,
      seed: 1,
      // From the photo itself, so that the first step's content loss is exactly 0.
      startNoise: 0,
    })) {
      if (event.type === "step") steps.push(event.losses);
    }
    const first = steps[0]!;
    const last = steps.at(-1)!;
    // Adam reports the loss before its update: the first step measures the content image itself.
    expect(first.content).toBe(0);
    expect(last.style).toBeLessThan(first.style * 0.2);
    expect(last.total).toBeLessThan(first.total * 0.5);
    // Neither term swamps the others at the defaults: the content term stays within a factor of the style.
    expect(last.content).toBeGreaterThan(last.style / 10);
    expect(last.content).toBeLessThan(last.style * 10);
  });
});
