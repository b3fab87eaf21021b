import * as tf from "@tensorflow/tfjs-core";
import type { ScaleObjective } from "./network.js";
import { seededRandom } from "./random.js";
import type { RgbImage } from "./types.js";

/**
 * Seeded random shifts between steps. VGG's pooling layers see the image on a fixed grid (every 2, 4, 8,
 * 16 px), so a loss evaluated on one alignment can be lowered by patterns locked to that grid: a regular
 * dot lattice in flat areas. Evaluating each stretch of steps on the image and the photo shifted together
 * by a random offset (wrapping around), and shifting the gradient back, makes no grid phase special, so
 * no lattice pays off. The optimiser's image never moves; only the objective's view of it does.
 */

export interface Shift {
  readonly dx: number;
  readonly dy: number;
}

export interface JitterPlan {
  /** New shift every this many evaluations (0: never shift). */
  readonly every: number;
  /** Shifts are drawn from 0 … period − 1 on each axis: every phase of the deepest pooling grid. */
  readonly period: number;
  readonly seed: number;
}

/** Steps between shifts: each shift rebuilds the objective (one forward pass of the photo and the styles). */
export const JITTER_EVERY = 10;

/**
 * An objective that evaluates on a shifted view, with a new seeded shift every `plan.every` evaluations;
 * `build` makes the objective for a shift (the photo shifted by it, see rollImage). The first stretch is
 * shifted too, so the seed decides it.
 */
export async function jitteredObjective(
  build: (shift: Shift) => Promise<ScaleObjective>,
  plan: JitterPlan,
): Promise<ScaleObjective> {
  const random = seededRandom(plan.seed);
  const draw = (): Shift =>
    plan.every > 0
      ? { dx: Math.floor(random() * plan.period), dy: Math.floor(random() * plan.period) }
      : { dx: 0, dy: 0 };
  let shift = draw();
  let current = await build(shift);
  let evaluations = 0;
  return {
    evaluate: async (image) => {
      if (plan.every > 0 && evaluations > 0 && evaluations % plan.every === 0) {
        const next = draw();
        const replacement = await build(next);
        current.dispose();
        current = replacement;
        shift = next;
      }
      evaluations += 1;
      if (shift.dx === 0 && shift.dy === 0) return current.evaluate(image);
      const shifted = rollTensor(image, shift.dx, shift.dy);
      try {
        const { terms, grad } = await current.evaluate(shifted);
        const back = rollTensor(grad, -shift.dx, -shift.dy);
        grad.dispose();
        return { terms, grad: back };
      } finally {
        shifted.dispose();
      }
    },
    dispose: () => current.dispose(),
  };
}

/** The image moved right by dx and down by dy, what leaves one edge coming back at the other. */
export function rollImage(image: RgbImage, { dx, dy }: Shift): RgbImage {
  if (dx === 0 && dy === 0) return image;
  const { width, height } = image;
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < height; y++) {
    const fromRow = mod(y - dy, height) * width;
    for (let x = 0; x < width; x++) {
      const from = (fromRow + mod(x - dx, width)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

/** rollImage for a [1, H, W, C] tensor. */
export function rollTensor(tensor: tf.Tensor4D, dx: number, dy: number): tf.Tensor4D {
  const [, height, width] = tensor.shape;
  if (mod(dx, width) === 0 && mod(dy, height) === 0) return tf.clone(tensor);
  return tf.tidy(() => rollAxis(rollAxis(tensor, 1, height, dy), 2, width, dx));
}

function rollAxis(tensor: tf.Tensor4D, axis: 1 | 2, length: number, by: number): tf.Tensor4D {
  const k = mod(by, length);
  if (k === 0) return tensor;
  const begin = [0, 0, 0, 0];
  const size = [-1, -1, -1, -1];
  const tail = tf.slice(
    tensor,
    begin.map((b, i) => (i === axis ? length - k : b)),
    size,
  );
  const head = tf.slice(
    tensor,
    begin,
    size.map((s, i) => (i === axis ? length - k : s)),
  );
  return tf.concat([tail, head], axis);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
