import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Logger } from "../log.js";
import { loadOnnxRuntime } from "./onnx/runtime.js";
import { MAX_WASM_THREADS, registerThreadedWasm } from "./tfjs/wasm-threads.js";
import { BACKEND_ORDER, type BackendName } from "./types.js";

/**
 * Picks the fastest backend this machine can run: native TensorFlow on the GPU → native TensorFlow on the
 * CPU → onnxruntime (native CPU kernels, ./onnx/) → WebAssembly → plain JS. The native ones are optional
 * dependencies (tfjs-node's install downloads libtensorflow, which fails offline), so each candidate is
 * tried and, when it cannot load, the reason is kept for the log. On onnxruntime the objective runs in
 * onnxruntime's own graphs and tfjs keeps only the image and optimiser state, on stock wasm. The wasm
 * backend runs tfjs-backend-wasm's threaded build on up to two cores (./tfjs/wasm-threads.ts), falling back to
 * the stock single-threaded build when the threaded one cannot load.
 */

export { BACKEND_ORDER };

export interface BackendChoice {
  readonly name: BackendName;
  /** Why each backend before the chosen one was skipped. */
  readonly skipped: readonly { name: BackendName; reason: string }[];
  /** wasm and onnxruntime: threads their kernels run on (wasm: 1 = the stock single-threaded build). */
  readonly threads?: number;
}

const require = createRequire(import.meta.url);

/**
 * CPU threads for the wasm and onnxruntime backends: "auto" is the available cores (wasm: at most 2,
 * measured ~1.8–2× faster per conv here; more are untested). For wasm, 1 selects the stock
 * single-threaded build.
 */
export type ThreadSetting = number | "auto";

/** The most threads a backend may be given. */
export const MAX_THREADS = 256;

function checkThreads(setting: ThreadSetting): ThreadSetting {
  if (setting !== "auto" && !(Number.isInteger(setting) && setting >= 1 && setting <= MAX_THREADS))
    throw new Error(`threads must be "auto" or a whole number 1–${MAX_THREADS}; got ${setting}`);
  return setting;
}

function threadsFor(name: BackendName, setting: ThreadSetting): number {
  const cores = os.availableParallelism();
  if (name !== "wasm") return setting === "auto" ? cores : setting;
  return setting === "auto" ? Math.min(2, cores) : Math.min(setting, MAX_WASM_THREADS);
}

/** Makes `name` tfjs's active backend; for wasm and onnxruntime, returns the thread count they run on. */
async function activate(
  name: BackendName,
  threadSetting: ThreadSetting,
  log: Logger | undefined,
): Promise<number | undefined> {
  let threads: number | undefined;
  let tfName: string = name;
  switch (name) {
    case "tensorflow-gpu":
      await import("@tensorflow/tfjs-node-gpu" as string);
      tfName = "tensorflow";
      break;
    case "tensorflow":
      await import("@tensorflow/tfjs-node" as string);
      break;
    case "onnxruntime":
      await loadOnnxRuntime();
      threads = threadsFor(name, threadSetting);
      // tfjs only holds the image and the optimiser's state: element-wise work, which the stock
      // single-threaded wasm build does ~16× faster than the cpu backend (measured: Adam at 256 px
      // 2.9 vs 47 ms), without threads competing with onnxruntime's.
      await loadStockWasm();
      tfName = "wasm";
      break;
    case "wasm": {
      const wasmThreads = threadsFor(name, threadSetting);
      await loadStockWasm();
      threads = 1;
      if (wasmThreads > 1) {
        try {
          threads = (await registerThreadedWasm({ threads: wasmThreads })).threads; // replaces stock "wasm"
        } catch (error) {
          log?.warn(
            { reason: firstLine(error), threads: wasmThreads },
            "threaded wasm could not start; using the single-threaded wasm backend",
          );
        }
      }
      break;
    }
    case "cpu":
      await import("@tensorflow/tfjs-backend-cpu");
      break;
  }
  if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend("${tfName}") returned false`);
  await tf.ready();
  return threads;
}

/** Registers tfjs-backend-wasm's stock build, its .wasm binaries read from the package on disk. */
export async function loadStockWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
  wasm.setWasmPaths(`${dist}${path.sep}`);
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

let chosen: Promise<BackendChoice> | undefined;
/** Whether the wasm backend is the active one, and whether releaseBackend() was called. */
let activeWasm = false;
let released = false;

export interface BackendOptions {
  /** Try only this backend, and fail loudly if it cannot load; undefined = the fastest that loads. */
  readonly forced?: BackendName | undefined;
  /** Threads of the wasm and onnxruntime backends; undefined = "auto". */
  readonly threads?: ThreadSetting | undefined;
  readonly log?: Logger | undefined;
}

/**
 * Initialise the backend once per process (later calls return the first choice). The caller passes the
 * configuration in (src/config.ts reads and validates the environment); the engine reads none.
 */
export function initBackend(options: BackendOptions = {}): Promise<BackendChoice> {
  if (released) return Promise.reject(new Error("the engine's backend was released (releaseBackend)"));
  chosen ??= selectBackend(options);
  return chosen;
}

/**
 * Release the backend when the process is done with the engine (idempotent; the engine cannot run in
 * this process afterwards). For wasm this disposes the backend, which ends its pthread workers. Those are
 * unref'd, so a process that skips this still exits, but releasing frees the threads and memory at once.
 */
export function releaseBackend(): void {
  if (released) return;
  released = true;
  // findBackendFactory, not findBackend: the latter would initialise a registered but unused backend.
  if (activeWasm && tf.findBackendFactory("wasm")) tf.removeBackend("wasm");
}

async function selectBackend({ forced, threads = "auto", log }: BackendOptions): Promise<BackendChoice> {
  const candidates: readonly BackendName[] = forced ? [forced] : BACKEND_ORDER;
  // Checked up front so that a bad value fails loudly instead of making the chain skip a backend.
  const threadSetting = checkThreads(threads);
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of candidates) {
    try {
      const used = await activate(name, threadSetting, log);
      activeWasm = tf.getBackend() === "wasm";
      for (const skip of skipped) log?.info({ backend: skip.name, reason: skip.reason }, "backend skipped");
      log?.info(
        { backend: name, forced: Boolean(forced), ...(used !== undefined && { threads: used }) },
        `running on the ${name} backend`,
      );
      return { name, skipped, ...(used !== undefined && { threads: used }) };
    } catch (error) {
      const reason = firstLine(error);
      skipped.push({ name, reason });
      if (forced) throw new Error(`the ${forced} backend was asked for but cannot be used: ${reason}`);
    }
  }
  throw new Error(`no backend could be loaded: ${JSON.stringify(skipped)}`);
}
