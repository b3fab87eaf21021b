import * as tf from "@tensorflow/tfjs-core";
import type { ObjectiveSpec } from "../objective.js";
import type { LayerName } from "../types.js";
import { blendGrams, gramMatrix } from "./gram.js";
import type { Vgg19Features } from "./vgg19.js";

/**
 * The Gatys et al. (2015) objective: content, style and total-variation terms, each a mean so that the
 * balance between them does not change with the image size.
 */

/** Mean squared error between feature maps. */
export function contentLoss(features: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.mean(tf.squaredDifference(features, target));
}

/** Squared Frobenius distance between Gram matrices, divided by the number of entries (C²). */
export function styleLoss(gram: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.squaredDifference(gram, target));
}

/** Squared total variation: mean squared difference between vertical plus horizontal neighbours. */
export function totalVariation(image: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [, h, w] = image.shape;
    const dy = tf.sub(
      tf.slice(image, [0, 1, 0, 0], [-1, h - 1, -1, -1]),
      tf.slice(image, 0, [-1, h - 1, -1, -1]),
    );
    const dx = tf.sub(
      tf.slice(image, [0, 0, 1, 0], [-1, -1, w - 1, -1]),
      tf.slice(image, 0, [-1, -1, w - 1, -1]),
    );
    return tf.add(tf.mean(tf.square(dy)), tf.mean(tf.square(dx)));
  });
}

/** Feature targets for one scale; computed once per scale and reused by every step. */
export interface Targets {
  readonly content: ReadonlyMap<LayerName, tf.Tensor4D>;
  readonly style: ReadonlyMap<LayerName, tf.Tensor2D>;
}

export function disposeTargets(targets: Targets): void {
  for (const t of targets.content.values()) t.dispose();
  for (const t of targets.style.values()) t.dispose();
}

/** Content features of `content` and the weighted blend of the styles' Gram matrices. */
export function computeTargets(
  net: Vgg19Features,
  spec: ObjectiveSpec,
  content: tf.Tensor4D,
  styles: readonly { image: tf.Tensor4D; weight: number }[],
): Targets {
  const targets = { content: new Map<LayerName, tf.Tensor4D>(), style: new Map<LayerName, tf.Tensor2D>() };
  tf.tidy(() => {
    const contentFeatures = net.features(content);
    const styleFeatures = styles.map((s) => net.features(s.image));
    for (const layer of spec.contentLayers) targets.content.set(layer, tf.keep(contentFeatures[layer]!));
    for (const { layer } of spec.styleLayers) {
      const grams = styles.map((s, i) => ({
        gram: gramMatrix(styleFeatures[i]![layer]!, net.gradients),
        weight: s.weight,
      }));
      targets.style.set(layer, tf.keep(blendGrams(grams)));
    }
  });
  return targets;
}

/** The weighted loss terms at one image; `total` is the sum of the other three. */
export interface LossTerms {
  readonly total: tf.Scalar;
  readonly content: tf.Scalar;
  readonly style: tf.Scalar;
  readonly tv: tf.Scalar;
}

export type Objective = (image: tf.Tensor4D) => LossTerms;

export function styleTransferObjective(net: Vgg19Features, spec: ObjectiveSpec, targets: Targets): Objective {
  return (image) => {
    const features = net.features(image);
    const content = sumOf(
      spec.contentLayers.map((l) =>
        tf.mul(contentLoss(features[l]!, targets.content.get(l)!), spec.contentWeight),
      ),
    );
    const style = sumOf(
      spec.styleLayers.map(({ layer, weight }) =>
        tf.mul(
          styleLoss(gramMatrix(features[layer]!, net.gradients), targets.style.get(layer)!),
          spec.styleWeight * weight,
        ),
      ),
    );
    const tv = tf.mul(totalVariation(image), spec.tvWeight) as tf.Scalar;
    return { total: tf.addN([content, style, tv]) as tf.Scalar, content, style, tv };
  };
}

function sumOf(terms: tf.Tensor[]): tf.Scalar {
  return (terms.length === 0 ? tf.scalar(0) : tf.addN(terms)) as tf.Scalar;
}
