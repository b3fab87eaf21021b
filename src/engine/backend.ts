import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Logger } from "../log.js";
import type { BackendName } from "./types.js";

/**
 * Picks the fastest TensorFlow.js backend this machine can run, in the order the brief fixes:
 * native GPU → native CPU → WebAssembly → plain JS. Native TensorFlow is an optional dependency (its
 * install downloads libtensorflow, which fails offline), so each candidate is tried and, when it cannot
 * load, the reason is kept for the log.
 */

export const BACKEND_ORDER: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

export interface BackendChoice {
  readonly name: BackendName;
  /** Why each backend before the chosen one was skipped. */
  readonly skipped: readonly { name: BackendName; reason: string }[];
}

const require = createRequire(import.meta.url);

async function activate(name: BackendName): Promise<void> {
  switch (name) {
    case "tensorflow-gpu":
      await import("@tensorflow/tfjs-node-gpu" as string);
      break;
    case "tensorflow":
      await import("@tensorflow/tfjs-node" as string);
      break;
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      // The .wasm binaries ship inside the package; point the loader at them on disk.
      const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
      wasm.setWasmPaths(`${dist}${path.sep}`);
      break;
    }
    case "cpu":
      await import("@tensorflow/tfjs-backend-cpu");
      break;
  }
  const tfName = name === "tensorflow-gpu" ? "tensorflow" : name;
  if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend("${tfName}") returned false`);
  await tf.ready();
}

let chosen: Promise<BackendChoice> | undefined;

/**
 * Initialise the backend once per process (later calls return the first choice).
 * `forced` (from STYLIZE_BACKEND) tries only that backend and fails loudly if it cannot load.
 */
export function initBackend(options: { forced?: BackendName; log?: Logger } = {}): Promise<BackendChoice> {
  chosen ??= selectBackend(options);
  return chosen;
}

async function selectBackend({
  forced,
  log,
}: {
  forced?: BackendName;
  log?: Logger;
}): Promise<BackendChoice> {
  const candidates = forced ? [forced] : BACKEND_ORDER;
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of candidates) {
    try {
      await activate(name);
      for (const skip of skipped) log?.info({ backend: skip.name, reason: skip.reason }, "backend skipped");
      log?.info({ backend: name, forced: Boolean(forced) }, `running on the ${name} backend`);
      return { name, skipped };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0]! : String(error);
      skipped.push({ name, reason });
      if (forced) throw new Error(`STYLIZE_BACKEND=${forced} cannot be used: ${reason}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${JSON.stringify(skipped)}`);
}

export function parseBackendName(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === "" || value === "auto") return undefined;
  if ((BACKEND_ORDER as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`STYLIZE_BACKEND must be one of auto, ${BACKEND_ORDER.join(", ")}; got "${value}"`);
}
