import * as tf from "@tensorflow/tfjs-core";
import type { ScaleObjective, StyleNetwork } from "../network.js";
import { type ObjectiveSpec, objectiveLayers } from "../objective.js";
import { imageToTensor } from "../tensor-image.js";
import type { Pooling, RgbImage, StyleSource, VggWeights } from "../types.js";
import type { GradientMode } from "./fast-grad.js";
import { computeTargets, disposeTargets, type Objective, styleTransferObjective } from "./losses.js";
import { Vgg19Features } from "./vgg19.js";

/** The objective on TensorFlow.js: VGG19 features and losses as tfjs ops, gradients by tfjs autodiff. */
export class TfjsNetwork implements StyleNetwork {
  private readonly net: Vgg19Features;

  constructor(
    weights: VggWeights,
    private readonly spec: ObjectiveSpec,
    pooling: Pooling,
    /** Defaults to what the active backend runs fastest (see ./fast-grad.ts). */
    gradients?: GradientMode,
  ) {
    this.net = new Vgg19Features(weights, {
      layers: objectiveLayers(spec),
      pooling,
      ...(gradients && { gradients }),
    });
  }

  get downsamplings(): number {
    return this.net.downsamplings;
  }

  async objective(content: RgbImage, styles: readonly StyleSource[]): Promise<ScaleObjective> {
    const contentTensor = imageToTensor(content);
    const styleTensors = styles.map((s) => ({ image: imageToTensor(s.image), weight: s.weight }));
    let targets: ReturnType<typeof computeTargets>;
    try {
      targets = computeTargets(this.net, this.spec, contentTensor, styleTensors);
    } finally {
      tf.dispose([contentTensor, ...styleTensors.map((s) => s.image)]);
    }
    return autodiff(styleTransferObjective(this.net, this.spec, targets), () => disposeTargets(targets));
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** A tfjs objective with its gradient by tfjs autodiff; `dispose` frees what the objective holds. */
export function autodiff(objective: Objective, dispose: () => void = () => {}): ScaleObjective {
  return {
    evaluate: async (image) => {
      let terms: tf.Tensor1D | undefined;
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => {
        const t = objective(x as tf.Tensor4D);
        // Kept past valueAndGrad's internal tidy; the caller disposes it.
        terms = tf.keep(tf.stack([t.total, t.content, t.style, t.tv]) as tf.Tensor1D);
        return t.total;
      })(image);
      value.dispose();
      return { terms: terms!, grad: grad as tf.Tensor4D };
    },
    dispose,
  };
}
