import * as tf from "@tensorflow/tfjs-core";
// Every differentiable path of the engine goes through this module: make sure tf.grad works on it.
import "./gradients.js";

/**
 * Exact gradients that run fast on the slow backends.
 *
 * On tfjs-wasm 4.22 the input gradient of conv2d (`Conv2DBackpropInput`) is a scalar loop about 10× slower
 * than the XNNPACK forward `Conv2D`, and `BatchMatMul` with a transposed operand falls back to a scalar
 * loop too; together they dominate a style-transfer step. Both gradients can be written with fast
 * forward kernels instead, giving the same numbers. Native TensorFlow has fast kernels for everything,
 * so it keeps the straightforward ops.
 */

export type GradientMode = "fast" | "plain";

/** The one place that decides which formulation a backend gets. */
export function gradientModeFor(backend: string): GradientMode {
  return backend === "wasm" || backend === "cpu" ? "fast" : "plain";
}

/** A stride-1 'same' convolution whose kernel is a constant: differentiable with respect to its input only. */
export interface ConstantConv {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

/** Takes ownership of `kernel` (HWIO); `dispose()` frees it. */
export function constantConv(kernel: tf.Tensor4D, mode: GradientMode): ConstantConv {
  if (mode === "plain") {
    return { apply: (x) => tf.conv2d(x, kernel, 1, "same"), dispose: () => kernel.dispose() };
  }
  const [kh, kw] = kernel.shape;
  if (kh % 2 === 0 || kw % 2 === 0)
    throw new Error(`fast conv gradient needs an odd kernel, got ${kh}×${kw}`);
  // With stride 1 and symmetric 'same' padding, dL/dx is the 'same' convolution of dL/dy with the kernel
  // flipped in space and with its in/out channels swapped: exact at the borders too.
  const flipped = tf.tidy(() => tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]));
  const apply = tf.customGrad((x) => ({
    value: tf.conv2d(x as tf.Tensor4D, kernel, 1, "same"),
    gradFunc: (dy) => tf.conv2d(dy as tf.Tensor4D, flipped, 1, "same"),
  })) as (x: tf.Tensor4D) => tf.Tensor4D;
  return {
    apply,
    dispose: () => {
      kernel.dispose();
      flipped.dispose();
    },
  };
}

/** FᵀF for F of shape [N, C] (the unnormalised Gram matrix of N feature vectors). */
export function gramProduct(f: tf.Tensor2D, mode: GradientMode): tf.Tensor2D {
  return mode === "plain" ? tf.matMul(f, f, true, false) : fastGramProduct(f);
}

// Forward Fᵀ·F and backward F·(dG + dGᵀ), with the transpose materialised so no matMul operand is
// transposed.
const fastGramProduct = tf.customGrad((f, save) => {
  (save as tf.GradSaveFunc)([f as tf.Tensor]);
  return {
    value: tf.matMul(tf.transpose(f as tf.Tensor2D), f as tf.Tensor2D),
    gradFunc: (dg, saved) => tf.matMul(saved[0] as tf.Tensor2D, tf.add(dg, tf.transpose(dg))),
  };
}) as (f: tf.Tensor2D) => tf.Tensor2D;
