import * as tf from "@tensorflow/tfjs-core";
import type { ScaleObjective } from "../network.js";
import type { LossBreakdown } from "../types.js";
import { type ImageOptimizer, PIXEL_MAX, PIXEL_MIN, readLosses, swap } from "./optimizer.js";

export interface AdamOptions {
  /** Step size in pixel values (0..255 scale). */
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** Decay of the exponential moving average of the iterates that `output()` returns. */
  readonly averageDecay: number;
}

/**
 * Adam (Kingma & Ba 2015) on the image, projected onto 0..255 after each step. Adam's iterates jitter
 * around the optimum, so, like crowsonkb/style-transfer-pytorch, the output is a bias-corrected
 * exponential moving average of the iterates, which is smoother than any single one.
 */
export class Adam implements ImageOptimizer {
  private x: tf.Tensor4D;
  private m: tf.Tensor4D;
  private v: tf.Tensor4D;
  private average: tf.Tensor4D;
  /** decay^updates: the share of the average's (zero) start value, removed by bias correction. */
  private averageBias = 1;
  private steps = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly objective: ScaleObjective,
    initial: tf.Tensor4D,
    private readonly options: AdamOptions,
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.x = tf.clone(initial);
    this.m = tf.zerosLike(initial);
    this.v = tf.zerosLike(initial);
    this.average = tf.zerosLike(initial);
    this.updateAverage();
  }

  async step(): Promise<LossBreakdown> {
    const { terms, grad } = await this.objective.evaluate(this.x);
    this.steps += 1;
    const { learningRate } = this.options;
    const { beta1, beta2, epsilon, steps } = this;
    const next = tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, beta1), tf.mul(grad, 1 - beta1)) as tf.Tensor4D;
      const v = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(grad), 1 - beta2)) as tf.Tensor4D;
      // Bias-corrected step, as in the paper's efficient form.
      const stepSize = (learningRate * Math.sqrt(1 - beta2 ** steps)) / (1 - beta1 ** steps);
      const update = tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), epsilon));
      const x = tf.clipByValue(tf.sub(this.x, update), PIXEL_MIN, PIXEL_MAX) as tf.Tensor4D;
      return { m, v, x };
    });
    grad.dispose();
    this.m = swap(this.m, next.m);
    this.v = swap(this.v, next.v);
    this.x = swap(this.x, next.x);
    this.updateAverage();
    return readLosses(terms);
  }

  /** The bias-corrected moving average of the iterates. */
  output(): tf.Tensor4D {
    return tf.tidy(() => tf.div(this.average, 1 - this.averageBias));
  }

  dispose(): void {
    tf.dispose([this.x, this.m, this.v, this.average]);
  }

  private updateAverage(): void {
    const decay = this.options.averageDecay;
    this.average = swap(
      this.average,
      tf.tidy(() => tf.add(tf.mul(this.average, decay), tf.mul(this.x, 1 - decay))),
    );
    this.averageBias *= decay;
  }
}
