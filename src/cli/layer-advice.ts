import { kerasConvName, type LayerName, VGG19_CONVS } from "../engine/index.js";

/**
 * Partial VGG19 weights (e.g. blocks 1–3 only) cannot serve layers deeper than their last conv. When the
 * chosen layers need more, this works out layer flags that these weights can serve, closest to what was
 * asked: a content layer moves up to the same position in the deepest block the weights hold, style
 * layers the weights lack are dropped (or, if none is left, the first layer of each block held is used).
 */

export interface LayerChoice {
  readonly contentLayers: readonly LayerName[];
  readonly styleLayers: readonly LayerName[];
}

export interface LayerAdvice {
  /** The chosen layers the weights cannot serve. */
  readonly unavailable: LayerChoice;
  /** Replacement lists; a list is absent when the chosen one already works. */
  readonly suggested: Partial<LayerChoice>;
  /** The deepest conv the weights hold, e.g. `block3_conv4`. */
  readonly deepestConv: string;
}

const LAYER_PATTERN = /^(relu|conv)(\d)_(\d)$/;

/** Undefined when `convNames` (Keras conv names held by the weights) serve every chosen layer. */
export function adviseLayers(convNames: Iterable<string>, chosen: LayerChoice): LayerAdvice | undefined {
  const held = new Set(convNames);
  // The loaders accept only a gap-free prefix of VGG19, so the weights are its first `depth` convs.
  const depth = VGG19_CONVS.findIndex((conv) => !held.has(conv.name));
  if (depth === -1 || depth === 0) return undefined;
  const deepest = VGG19_CONVS[depth - 1]!;
  const fits = (layer: LayerName) => VGG19_CONVS.findIndex((c) => c.name === kerasConvName(layer)) < depth;

  const unavailable = {
    contentLayers: chosen.contentLayers.filter((l) => !fits(l)),
    styleLayers: chosen.styleLayers.filter((l) => !fits(l)),
  };
  if (unavailable.contentLayers.length === 0 && unavailable.styleLayers.length === 0) return undefined;

  const convsInBlock = (block: number) => VGG19_CONVS.slice(0, depth).filter((c) => c.block === block).length;
  const moveUp = (layer: LayerName): LayerName => {
    if (fits(layer)) return layer;
    const [, kind, , index] = LAYER_PATTERN.exec(layer)!;
    return `${kind}${deepest.block}_${Math.min(Number(index), convsInBlock(deepest.block))}`;
  };
  const keptStyle = chosen.styleLayers.filter(fits);
  const firstOfEachBlock = Array.from({ length: deepest.block }, (_, b) => `relu${b + 1}_1`);

  const suggested: { contentLayers?: LayerName[]; styleLayers?: LayerName[] } = {};
  if (unavailable.contentLayers.length > 0)
    suggested.contentLayers = [...new Set(chosen.contentLayers.map(moveUp))];
  if (unavailable.styleLayers.length > 0)
    suggested.styleLayers = keptStyle.length > 0 ? keptStyle : firstOfEachBlock;
  return { unavailable, suggested, deepestConv: deepest.name };
}

/** The advice as the command-line flags to add, e.g. `--content-layers relu3_2 --style-layers relu1_1,…`. */
export function suggestedFlags(advice: LayerAdvice): string {
  const flags: string[] = [];
  if (advice.suggested.contentLayers)
    flags.push(`--content-layers ${advice.suggested.contentLayers.join(",")}`);
  if (advice.suggested.styleLayers) flags.push(`--style-layers ${advice.suggested.styleLayers.join(",")}`);
  return flags.join(" ");
}

/** What a user reads: which layers the weights lack, and the flags that work with them. */
export function layerAdviceMessage(weightsLocation: string, advice: LayerAdvice): string {
  const lacking = [
    advice.unavailable.contentLayers.length > 0
      ? `${advice.unavailable.contentLayers.join(", ")} (content)`
      : "",
    advice.unavailable.styleLayers.length > 0 ? `${advice.unavailable.styleLayers.join(", ")} (style)` : "",
  ].filter(Boolean);
  return (
    `the VGG19 weights at ${weightsLocation} stop at ${advice.deepestConv}, but ${lacking.join(" and ")} ` +
    `need deeper layers.\nWith these weights, add: ${suggestedFlags(advice)}\n` +
    "(or use the full VGG19 weights, which `npm run models` downloads)"
  );
}
