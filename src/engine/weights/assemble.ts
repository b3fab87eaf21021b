import { isNotFound, plainFsReason } from "../../fs-errors.js";
import type { ConvWeights, VggWeights } from "../types.js";
import { VGG19_CONVS } from "../vgg19-spec.js";

/**
 * What both loaders share: telling kernels from biases by name, and checking that what a file holds
 * really is (a prefix of) the VGG19 conv stack before anyone builds a network from it.
 */

/** A weights file that exists but cannot be used; the message names the file and, where known, the layer. */
export class InvalidWeightsError extends Error {
  override name = "InvalidWeightsError";
  /** The file exists but could not be read (e.g. permission denied), rather than holding bad data. */
  readonly unreadable: boolean;
  constructor(
    readonly file: string,
    readonly detail: string,
    options?: ErrorOptions & { unreadable?: boolean },
  ) {
    super(`${file}: ${detail}`, options);
    this.unreadable = options?.unreadable ?? false;
  }
}

/** The error for a weights file (or a part of one, `what`) that could not be read: missing, or unreadable. */
export function fileReadError(file: string, error: unknown, what?: string): InvalidWeightsError {
  if (isNotFound(error))
    return new InvalidWeightsError(file, `${what ?? "the file"} does not exist`, { cause: error });
  const detail = `${what ? `${what}: ` : ""}${plainFsReason(error)}`;
  return new InvalidWeightsError(file, detail, { cause: error, unreadable: true });
}

const VGG_NAMES = new Set(VGG19_CONVS.map((c) => c.name));

export function isVggConvName(name: string): boolean {
  return VGG_NAMES.has(name);
}

export type WeightRole = "kernel" | "bias";

/**
 * Parse a weight name the way Keras and the tfjs converter write them:
 * `block1_conv1/kernel:0`, `vgg19/block1_conv1/bias`, or the Keras 1 style `block1_conv1_W_1:0` /
 * `block1_conv1_b_1:0` used by the published VGG19 .h5 files. `layer` is set when the name carries a
 * VGG19 conv layer name.
 */
export function parseWeightName(name: string): { layer?: string; role?: WeightRole } {
  const parts = name.replace(/:\d+$/, "").split("/");
  const last = parts.at(-1) ?? "";
  const keras1 = /^(block\d_conv\d)_([Wb])(?:_\d+)?$/.exec(last);
  if (keras1) return { layer: keras1[1], role: keras1[2] === "W" ? "kernel" : "bias" };
  const role = last === "kernel" ? "kernel" : last === "bias" ? "bias" : undefined;
  const layer = parts.slice(0, -1).findLast((p) => VGG_NAMES.has(p));
  return { ...(layer ? { layer } : {}), ...(role ? { role } : {}) };
}

/** One conv layer as read from a file, before validation. */
export interface RawConv {
  kernel?: { shape: readonly number[]; values: Float32Array };
  bias?: { shape: readonly number[]; values: Float32Array };
}

/**
 * Validate and order raw conv weights: every layer has a [3,3,cin,cout] kernel and a [cout] bias,
 * channels chain from 3 input channels, and the layers are a prefix of VGG19 (block1_conv1 first,
 * no gaps). Channel counts are not fixed, so tiny test networks pass.
 */
export function assembleVggWeights(raw: ReadonlyMap<string, RawConv>, file: string): VggWeights {
  if (raw.size === 0) {
    throw new InvalidWeightsError(
      file,
      "no VGG19 conv layers found (expected block1_conv1, block1_conv2, …)",
    );
  }
  const count = VGG19_CONVS.findIndex((c) => !raw.has(c.name));
  const present = count === -1 ? VGG19_CONVS.length : count;
  const stray = VGG19_CONVS.slice(present).find((c) => raw.has(c.name));
  if (present === 0) throw new InvalidWeightsError(file, "layer block1_conv1 is missing");
  if (stray) {
    throw new InvalidWeightsError(
      file,
      `layer ${VGG19_CONVS[present]!.name} is missing but ${stray.name} is present; ` +
        "weights must cover VGG19 from block1_conv1 without gaps",
    );
  }

  const out = new Map<string, ConvWeights>();
  let inChannels = 3;
  for (const { name } of VGG19_CONVS.slice(0, present)) {
    const conv = raw.get(name)!;
    const fail = (detail: string) => new InvalidWeightsError(file, `layer ${name}: ${detail}`);
    if (!conv.kernel) throw fail("kernel is missing");
    if (!conv.bias) throw fail("bias is missing");
    const shape = conv.kernel.shape;
    if (shape.length !== 4 || shape[0] !== 3 || shape[1] !== 3) {
      throw fail(`kernel shape is [${shape.join(",")}], expected [3,3,in,out]`);
    }
    const [, , cin, cout] = shape as [number, number, number, number];
    if (cin !== inChannels) {
      throw fail(`kernel has ${cin} input channels but the previous layer gives ${inChannels}`);
    }
    if (conv.kernel.values.length !== 9 * cin * cout) {
      throw fail(
        `kernel holds ${conv.kernel.values.length} values, shape [3,3,${cin},${cout}] needs ${9 * cin * cout}`,
      );
    }
    if (conv.bias.shape.length !== 1 || conv.bias.shape[0] !== cout || conv.bias.values.length !== cout) {
      throw fail(`bias shape is [${conv.bias.shape.join(",")}], expected [${cout}]`);
    }
    out.set(name, { kernelShape: [3, 3, cin, cout], kernel: conv.kernel.values, bias: conv.bias.values });
    inChannels = cout;
  }
  return out;
}
