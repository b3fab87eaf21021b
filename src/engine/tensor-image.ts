import * as tf from "@tensorflow/tfjs-core";
import type { RgbImage } from "./types.js";

/** Conversions between the engine's public `RgbImage` and the [1, H, W, 3] float 0..255 tensors it optimises. */

export function imageToTensor(image: RgbImage): tf.Tensor4D {
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(
      `RgbImage data has ${image.data.length} bytes, expected ${image.width}×${image.height}×3`,
    );
  }
  return tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
}

/** Rounds and clamps to 8 bits; async so GPU backends can download without blocking. */
export async function tensorToImage(tensor: tf.Tensor4D): Promise<RgbImage> {
  const [, height, width] = tensor.shape;
  const clamped = tf.tidy(() => tf.clipByValue(tf.round(tensor), 0, 255));
  const values = await clamped.data();
  clamped.dispose();
  return { data: Uint8Array.from(values), width, height };
}

/** Bilinear resize (half-pixel centres), used to carry the image being optimised to the next scale. */
export function resizeTensor(tensor: tf.Tensor4D, width: number, height: number): tf.Tensor4D {
  return tf.image.resizeBilinear(tensor, [height, width], false, true);
}
