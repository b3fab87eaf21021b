import * as tf from "@tensorflow/tfjs-core";

/**
 * Gradients for the kernels the style-transfer graph differentiates through.
 *
 * tfjs-core's Node build registers no gradients at all: the `@tensorflow/tfjs` union package (pulled in by
 * tfjs-node) does, and `register_all_gradients` is an extension-less ES module that Node cannot load. So on
 * the wasm and cpu backends `tf.grad` would fail with "gradient function not found". This module registers,
 * with public ops only, each gradient that is still missing; one registered by tfjs itself is left alone.
 */

type Grads = Record<string, () => tf.Tensor>;
type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[], attrs: Record<string, unknown>) => Grads;

/** Sums `dy` over the axes that broadcasting expanded, back to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** dy of a reduction, broadcast back over the reduced axes of `x`, divided by `divisor`. */
function unreduce(
  dy: tf.Tensor,
  x: tf.Tensor,
  attrs: Record<string, unknown>,
  divisor: (size: number) => number,
): tf.Tensor {
  const axes = tf.util.parseAxisParam((attrs.axis ?? null) as number[], x.shape);
  const reduced = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const kept = attrs.keepDims ? dy : tf.reshape(dy, tf.backend_util.expandShapeToKeepDim(dy.shape, axes));
  return tf.mul(tf.mul(kept, tf.onesLike(x)), 1 / divisor(reduced));
}

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) =>
  tf.engine().runKernel(kernel, inputs, attrs as never) as tf.Tensor;

const GRADIENTS: Record<string, { inputsToSave?: string[]; outputsToSave?: boolean[]; gradFunc: GradFunc }> =
  {
    Add: {
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(dy, b!.shape) }),
    },
    Sub: {
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => ({
        a: () => unbroadcast(dy, a!.shape),
        b: () => unbroadcast(tf.neg(dy), b!.shape),
      }),
    },
    Multiply: {
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => ({
        a: () => unbroadcast(tf.mul(dy, b!), a!.shape),
        b: () => unbroadcast(tf.mul(dy, a!), b!.shape),
      }),
    },
    SquaredDifference: {
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => ({
        a: () => unbroadcast(tf.mul(dy, tf.mul(tf.sub(a!, b!), 2)), a!.shape),
        b: () => unbroadcast(tf.mul(dy, tf.mul(tf.sub(b!, a!), 2)), b!.shape),
      }),
    },
    Square: { inputsToSave: ["x"], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x!, 2)) }) },
    Relu: { inputsToSave: ["x"], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.step(x!)) }) },
    Sum: {
      inputsToSave: ["x"],
      gradFunc: (dy, [x], attrs) => ({ x: () => unreduce(dy, x!, attrs, () => 1) }),
    },
    Mean: {
      inputsToSave: ["x"],
      gradFunc: (dy, [x], attrs) => ({ x: () => unreduce(dy, x!, attrs, (n) => n) }),
    },
    // avgPool casts its result to the input dtype, so Cast sits on the path too.
    Cast: { gradFunc: (dy) => ({ x: () => tf.clone(dy) }) },
    Reshape: { inputsToSave: ["x"], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy, x!.shape) }) },
    Reverse: { gradFunc: (dy, _, { dims }) => ({ x: () => tf.reverse(dy, dims as number[]) }) },
    Slice: {
      inputsToSave: ["x"],
      gradFunc: (dy, [x], { begin, size }) => {
        const [start, length] = tf.slice_util.parseSliceParams(x!, begin as number[], size as number[]);
        const paddings = x!.shape.map((n, i): [number, number] => [start![i]!, n - start![i]! - length![i]!]);
        return { x: () => tf.pad(dy, paddings) };
      },
    },
    MaxPool: {
      inputsToSave: ["x"],
      outputsToSave: [true],
      gradFunc: (dy, [x, y], attrs) => ({
        x: () => run("MaxPoolGrad", { dy, input: x!, output: y! }, attrs),
      }),
    },
    AvgPool: {
      inputsToSave: ["x"],
      gradFunc: (dy, [x], attrs) => ({ x: () => run("AvgPoolGrad", { dy, input: x! }, attrs) }),
    },
    Conv2D: {
      inputsToSave: ["x", "filter"],
      gradFunc: (dy, [x, filter], attrs) => ({
        x: () => run("Conv2DBackpropInput", { dy, filter: filter! }, { ...attrs, inputShape: x!.shape }),
        filter: () => run("Conv2DBackpropFilter", { x: x!, dy }, { ...attrs, filterShape: filter!.shape }),
      }),
    },
    BatchMatMul: {
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b], { transposeA, transposeB }) => {
        // For C = op(A)·op(B): dA and dB for each combination of transposes.
        const mm = (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) => tf.matMul(x, y, tx, ty);
        if (!transposeA && !transposeB)
          return { a: () => mm(dy, b!, false, true), b: () => mm(a!, dy, true, false) };
        if (!transposeA) return { a: () => mm(dy, b!, false, false), b: () => mm(dy, a!, true, false) };
        if (!transposeB) return { a: () => mm(b!, dy, false, true), b: () => mm(a!, dy, false, false) };
        return { a: () => mm(b!, dy, true, true), b: () => mm(dy, a!, true, true) };
      },
    },
  };

for (const [kernelName, config] of Object.entries(GRADIENTS)) {
  if (!tf.getGradient(kernelName)) tf.registerGradient({ kernelName, ...config } as tf.GradConfig);
}

/** AddN's inputs are positional, so its gradient is keyed by index. */
if (!tf.getGradient("AddN")) {
  tf.registerGradient({
    kernelName: "AddN",
    saveAllInputs: true,
    gradFunc: ((dy: tf.Tensor, saved: tf.Tensor[]) =>
      Object.fromEntries(saved.map((_, i) => [i, () => tf.clone(dy)]))) as tf.GradConfig["gradFunc"],
  });
}
