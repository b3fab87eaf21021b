import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
// decodeWeights returns tensors, so a backend must be registered; this one never displaces a faster
// backend the engine selects explicitly.
import "@tensorflow/tfjs-backend-cpu";
import { z } from "zod";
import type { VggWeights } from "../types.js";
import {
  assembleVggWeights,
  fileReadError,
  InvalidWeightsError,
  parseWeightName,
  type RawConv,
  type WeightRole,
} from "./assemble.js";

/**
 * Reads VGG19 conv weights from a TensorFlow.js layers-model folder (`model.json` plus the binary shards
 * its `weightsManifest` lists). Dequantisation (uint8/uint16/float16) is tfjs-core's own
 * `tf.io.decodeWeights`; this module finds the conv weights by name, checks the shards are all there
 * and complete, and hands the result to the shared VGG19 validation. Groups holding no conv weight
 * (e.g. the classifier) are not read at all, so a partial model (blocks 1–3) works.
 */

const WeightSpecSchema = z.looseObject({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.string(),
  quantization: z
    .looseObject({
      dtype: z.enum(["uint8", "uint16", "float16"]),
      scale: z.number().optional(),
      min: z.number().optional(),
    })
    .optional(),
});

const ModelJsonSchema = z.looseObject({
  weightsManifest: z.array(
    z.object({ paths: z.array(z.string().min(1)).min(1), weights: z.array(WeightSpecSchema) }),
  ),
});

type WeightSpec = z.infer<typeof WeightSpecSchema>;

const BYTES_PER_VALUE: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** `location` is the model folder or its model.json. */
export async function loadTfjsLayers(location: string): Promise<VggWeights> {
  const modelJson = (await isDirectory(location)) ? path.join(location, "model.json") : location;
  const manifest = await readModelJson(modelJson);
  const dir = path.dirname(modelJson);

  const raw = new Map<string, RawConv>();
  for (const group of manifest.weightsManifest) {
    const wanted = group.weights.flatMap((spec) => {
      const { layer, role } = parseWeightName(spec.name);
      return layer && role ? [{ spec, layer, role }] : [];
    });
    if (wanted.length === 0) continue;

    const layers = [...new Set(wanted.map((w) => w.layer))].join(", ");
    const bytes = await readShards(modelJson, dir, group.paths, group.weights, layers);
    const decoded = tf.io.decodeWeights(bytes, group.weights as tf.io.WeightsManifestEntry[]);
    try {
      for (const { spec, layer, role } of wanted) {
        if (spec.dtype !== "float32") {
          throw new InvalidWeightsError(
            modelJson,
            `layer ${layer}: ${spec.name} has dtype ${spec.dtype}, expected float32`,
          );
        }
        addWeight(raw, modelJson, layer, role, spec.shape, decoded[spec.name]!.dataSync() as Float32Array);
      }
    } finally {
      tf.dispose(Object.values(decoded));
    }
  }
  return assembleVggWeights(raw, modelJson);
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function readModelJson(modelJson: string): Promise<z.infer<typeof ModelJsonSchema>> {
  let text: string;
  try {
    text = await readFile(modelJson, "utf8");
  } catch (error) {
    throw fileReadError(modelJson, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidWeightsError(modelJson, `not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const parsed = ModelJsonSchema.safeParse(data);
  if (!parsed.success) {
    throw new InvalidWeightsError(
      modelJson,
      `not a TensorFlow.js layers model (bad weightsManifest):\n${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** The group's shards, concatenated, after checking each exists and the total is exactly what the specs need. */
async function readShards(
  modelJson: string,
  dir: string,
  paths: readonly string[],
  specs: readonly WeightSpec[],
  layers: string,
): Promise<ArrayBuffer[]> {
  const buffers: ArrayBuffer[] = [];
  for (const shard of paths) {
    const file = path.resolve(dir, shard);
    if (path.relative(dir, file).startsWith("..")) {
      throw new InvalidWeightsError(
        modelJson,
        `weight shard path "${shard}" points outside the model folder`,
      );
    }
    const data = await readFile(file).catch((error: unknown) => {
      throw fileReadError(modelJson, error, `weight shard ${shard} (holding ${layers})`);
    });
    buffers.push(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
  }

  let expected = 0;
  for (const spec of specs) {
    const perValue = BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype];
    if (perValue === undefined) {
      throw new InvalidWeightsError(modelJson, `weight ${spec.name} has unsupported dtype ${spec.dtype}`);
    }
    expected += perValue * spec.shape.reduce((a, b) => a * b, 1);
  }
  const actual = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  if (actual !== expected) {
    throw new InvalidWeightsError(
      modelJson,
      `weight shards ${paths.join(", ")} (holding ${layers}) have ${actual} bytes but the manifest ` +
        `needs ${expected}${actual < expected ? " (truncated?)" : ""}`,
    );
  }
  return buffers;
}

function addWeight(
  raw: Map<string, RawConv>,
  modelJson: string,
  layer: string,
  role: WeightRole,
  shape: readonly number[],
  values: Float32Array,
): void {
  const conv = raw.get(layer) ?? {};
  if (conv[role]) throw new InvalidWeightsError(modelJson, `layer ${layer}: has two ${role} weights`);
  conv[role] = { shape, values };
  raw.set(layer, conv);
}
