import { describe, expect, it } from "vitest";
import { adviseLayers, layerAdviceMessage, suggestedFlags } from "../src/cli/layer-advice.js";
import { DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, VGG19_CONVS } from "../src/engine/index.js";

/** The Keras names of the first `count` VGG19 convs: what partial weights hold. */
const firstConvs = (count: number) => VGG19_CONVS.slice(0, count).map((c) => c.name);
const defaults = {
  contentLayers: DEFAULT_CONTENT_LAYERS,
  styleLayers: DEFAULT_STYLE_LAYERS.map((s) => s.layer),
};

describe("adviseLayers", () => {
  it("has nothing to say when the weights serve every chosen layer", () => {
    expect(adviseLayers(firstConvs(16), defaults)).toBeUndefined();
    expect(
      adviseLayers(firstConvs(8), { contentLayers: ["relu3_4"], styleLayers: ["relu1_1"] }),
    ).toBeUndefined();
  });

  it("moves the default layers into blocks 1–3 for weights that stop there", () => {
    const advice = adviseLayers(firstConvs(8), defaults)!;
    expect(advice).toEqual({
      unavailable: { contentLayers: ["relu4_2"], styleLayers: ["relu4_1", "relu5_1"] },
      suggested: { contentLayers: ["relu3_2"], styleLayers: ["relu1_1", "relu2_1", "relu3_1"] },
      deepestConv: "block3_conv4",
    });
    expect(suggestedFlags(advice)).toBe("--content-layers relu3_2 --style-layers relu1_1,relu2_1,relu3_1");
  });

  it("works with weights that stop inside a block, keeping conv/relu and the layer's position", () => {
    // blocks 1–2 and block3_conv1–conv2
    const advice = adviseLayers(firstConvs(6), {
      contentLayers: ["conv4_2", "relu3_4"],
      styleLayers: ["relu2_1"],
    })!;
    expect(advice.suggested).toEqual({ contentLayers: ["conv3_2", "relu3_2"] });
    expect(suggestedFlags(advice)).toBe("--content-layers conv3_2,relu3_2");
  });

  it("falls back to the first layer of each block held when no chosen style layer is left", () => {
    const advice = adviseLayers(firstConvs(4), {
      contentLayers: ["relu2_2"],
      styleLayers: ["relu4_1", "relu5_1"],
    })!;
    expect(advice.suggested).toEqual({ styleLayers: ["relu1_1", "relu2_1"] });
  });

  it("says which layers are missing and which flags to add", () => {
    const message = layerAdviceMessage("/w/vgg-1-3", adviseLayers(firstConvs(8), defaults)!);
    expect(message).toBe(
      "the VGG19 weights at /w/vgg-1-3 stop at block3_conv4, but relu4_2 (content) and relu4_1, relu5_1 (style) " +
        "need deeper layers.\nWith these weights, add: --content-layers relu3_2 --style-layers relu1_1,relu2_1,relu3_1\n" +
        "(or use the full VGG19 weights, which `npm run models` downloads)",
    );
  });
});
