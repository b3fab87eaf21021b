import { existsSync } from "node:fs";
import path from "node:path";

/**
 * Reference data kept beside the checkout, in ../shared/reference (see its SOURCES.md): the real Keras
 * ImageNet VGG19 weights (blocks 1–3) and real photos and paintings. It exists only in this workplace;
 * elsewhere the tests that need it skip, and say so loudly.
 */
export const REFERENCE_DIR = path.resolve(import.meta.dirname, "../../../shared/reference");

/** VGG19 blocks 1–3 as a TensorFlow.js layers model. */
export const REFERENCE_MODEL = path.join(REFERENCE_DIR, "vgg19/model-block1-3.json");

/** Whether the reference VGG19 model is present. */
export const hasReference = existsSync(REFERENCE_MODEL);

/** The loud warning printed when tests skip for want of reference data: which tests, and why. */
export function warnSkipping(tests: string, reason: string): void {
  console.warn(`\n!!! SKIPPING ${tests}: ${reason}\n`);
}
