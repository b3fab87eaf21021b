import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import h5wasm, { type Attribute, type Group } from "h5wasm/node";
import type { VggWeights } from "../types.js";
import {
  assembleVggWeights,
  fileReadError,
  InvalidWeightsError,
  isVggConvName,
  parseWeightName,
  type RawConv,
} from "./assemble.js";
import { hdf5HeaderProblem } from "./hdf5-header.js";

/**
 * Reads VGG19 conv weights from a Keras 2 HDF5 file: a weights-only save (layers at the root, like the
 * published `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`) or a full-model save (layers under
 * `model_weights`). Layers are found through the `layer_names` attribute and weights through each
 * layer's `weight_names`, never by position; non-conv layers (input, pooling, fc) are ignored.
 */

/** Load from a path, or from bytes (written to a temporary file: h5wasm in Node reads the host filesystem). */
export async function loadKerasH5(source: string | Uint8Array, label?: string): Promise<VggWeights> {
  if (typeof source === "string") return readKerasH5(path.resolve(source), label ?? source);
  const dir = await mkdtemp(path.join(os.tmpdir(), "stylize-h5-"));
  try {
    const file = path.join(dir, "weights.h5");
    await writeFile(file, source);
    return await readKerasH5(file, label ?? "<in-memory .h5>");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readKerasH5(file: string, label: string): Promise<VggWeights> {
  await h5wasm.ready;
  const problem = await hdf5HeaderProblem(file).catch((error: unknown) => {
    throw fileReadError(label, error);
  });
  if (problem) throw new InvalidWeightsError(label, problem);

  let h5: InstanceType<typeof h5wasm.File>;
  try {
    h5 = new h5wasm.File(file, "r");
  } catch (error) {
    throw new InvalidWeightsError(label, `cannot open as HDF5 (${String(error)})`, { cause: error });
  }
  try {
    return assembleVggWeights(readConvLayers(h5, label), label);
  } catch (error) {
    if (error instanceof InvalidWeightsError) throw error;
    throw new InvalidWeightsError(label, `damaged, or not a Keras weights file (${String(error)})`, {
      cause: error,
    });
  } finally {
    h5.close();
  }
}

function readConvLayers(h5: Group, label: string): Map<string, RawConv> {
  const modelWeights = h5.get("model_weights");
  const root = modelWeights instanceof h5wasm.Group ? modelWeights : h5;
  const layerNames = readStringList(root, "layer_names");
  if (!layerNames) {
    throw new InvalidWeightsError(
      label,
      "no layer_names attribute, so this is not a Keras 2 .h5 weights file " +
        "(Keras 3 '.weights.h5' files are not supported)",
    );
  }

  const raw = new Map<string, RawConv>();
  for (const layer of layerNames.filter(isVggConvName)) {
    const fail = (detail: string) => new InvalidWeightsError(label, `layer ${layer}: ${detail}`);
    const group = root.get(layer);
    if (!(group instanceof h5wasm.Group)) throw fail("listed in layer_names but its group is missing");
    const weightNames = readStringList(group, "weight_names") ?? [];
    const conv: RawConv = {};
    for (const weightName of weightNames) {
      const { role } = parseWeightName(weightName);
      if (!role) throw fail(`unexpected weight "${weightName}" (a conv layer has only a kernel and a bias)`);
      if (conv[role]) throw fail(`has two ${role} weights`);
      const dataset = group.get(weightName);
      if (!(dataset instanceof h5wasm.Dataset)) throw fail(`weight "${weightName}" is listed but missing`);
      const value = dataset.value;
      const values =
        value instanceof Float32Array
          ? value
          : value instanceof Float64Array
            ? Float32Array.from(value)
            : undefined;
      if (!values) throw fail(`weight "${weightName}" has dtype ${String(dataset.dtype)}, expected float32`);
      conv[role] = { shape: dataset.shape ?? [], values };
    }
    raw.set(layer, conv);
  }
  return raw;
}

/**
 * A string-list attribute. Keras splits attributes too big for one HDF5 header message into
 * `name0`, `name1`, … (see keras `save_attributes_to_hdf5_group`), so both forms are read.
 */
function readStringList(node: Group, name: string): string[] | undefined {
  const attrs = node.attrs;
  if (attrs[name]) return toStrings(attrs[name]);
  if (!attrs[`${name}0`]) return undefined;
  const chunks: string[] = [];
  for (let i = 0; attrs[`${name}${i}`]; i++) chunks.push(...toStrings(attrs[`${name}${i}`]!));
  return chunks;
}

function toStrings(attribute: Attribute): string[] {
  const value = attribute.value;
  const items = Array.isArray(value) ? value : value === null ? [] : [value];
  return items.flatMap((item) => {
    if (typeof item === "string") return [item.replace(/\0+$/, "")];
    if (item instanceof Uint8Array) return [new TextDecoder().decode(item).replace(/\0+$/, "")];
    return []; // Keras stores an empty weight_names list as an empty float array.
  });
}
