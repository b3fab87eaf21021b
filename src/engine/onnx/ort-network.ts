import * as tf from "@tensorflow/tfjs-core";
import type { ScaleObjective, StyleNetwork } from "../network.js";
import { type ObjectiveSpec, styleShares } from "../objective.js";
import type { Pooling, RgbImage, StyleSource, VggWeights } from "../types.js";
import {
  loadOnnxRuntime,
  type OnnxRuntime,
  type OrtSession,
  type OrtTensor,
  sessionOptions,
} from "./runtime.js";
import { IO, VggGraphs } from "./vgg-graphs.js";

/**
 * The objective on onnxruntime: two sessions built once per network (./vgg-graphs.ts), one for the targets
 * and one for a step's loss and gradient, each serving every image size. The optimiser's image stays a
 * tfjs tensor (on stock wasm, see ../backend.ts) and crosses to onnxruntime as one Float32Array per step;
 * the gradient comes back as one.
 */
export class OrtNetwork implements StyleNetwork {
  private constructor(
    private readonly ort: OnnxRuntime,
    readonly downsamplings: number,
    private readonly spec: ObjectiveSpec,
    private readonly features: OrtSession,
    private readonly step: OrtSession,
  ) {}

  static async create(
    weights: VggWeights,
    spec: ObjectiveSpec,
    pooling: Pooling,
    threads: number,
  ): Promise<OrtNetwork> {
    const ort = await loadOnnxRuntime();
    const graphs = new VggGraphs(weights, spec, pooling);
    // Features run once per image and scale, the step on every step: only the step keeps an arena.
    const features = await ort.InferenceSession.create(graphs.features(), sessionOptions(threads, false));
    try {
      const step = await ort.InferenceSession.create(graphs.step(), sessionOptions(threads, true));
      return new OrtNetwork(ort, graphs.downsamplings, spec, features, step);
    } catch (error) {
      await features.release();
      throw error;
    }
  }

  async objective(content: RgbImage, styles: readonly StyleSource[]): Promise<ScaleObjective> {
    const shares = styleShares(styles.map((s) => s.weight));
    const targets: Record<string, OrtTensor> = await this.features.run(
      { [IO.image]: this.imageTensor(content) },
      this.spec.contentLayers.map(IO.content),
    );
    // The weighted mean of the styles' Gram matrices, as blendGrams does on tfjs.
    const blended = new Map<string, { sum: Float32Array; dims: readonly number[] }>();
    for (const [index, style] of styles.entries()) {
      const grams = await this.features.run(
        { [IO.image]: this.imageTensor(style.image) },
        this.spec.styleLayers.map((s) => IO.gram(s.layer)),
      );
      const share = shares[index]!;
      for (const [name, gram] of Object.entries(grams)) {
        const sum = blended.get(name)?.sum ?? new Float32Array(gram.size);
        const values = gram.data as Float32Array;
        for (let i = 0; i < sum.length; i++) sum[i]! += values[i]! * share;
        blended.set(name, { sum, dims: gram.dims });
      }
    }
    for (const [name, { sum, dims }] of blended) targets[name] = new this.ort.Tensor("float32", sum, dims);
    return {
      evaluate: async (image) => {
        const shape = image.shape;
        const pixels = (await image.data()) as Float32Array;
        const out = await this.step.run({
          ...targets,
          [IO.image]: new this.ort.Tensor("float32", pixels, shape),
        });
        return {
          terms: tf.tensor1d(out[IO.terms]!.data as Float32Array),
          grad: tf.tensor4d(out[IO.grad]!.data as Float32Array, shape),
        };
      },
      dispose: () => {},
    };
  }

  dispose(): void {
    // Frees the native sessions; nothing awaits it, and a failure to free is not worth a crash.
    void this.features.release().catch(() => {});
    void this.step.release().catch(() => {});
  }

  private imageTensor(image: RgbImage): OrtTensor {
    return new this.ort.Tensor("float32", Float32Array.from(image.data), [1, image.height, image.width, 3]);
  }
}
