import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Logger } from "../log.js";
import type { BackendName } from "./types.js";
import { MAX_WASM_THREADS, registerThreadedWasm } from "./wasm-threads.js";

/**
 * Picks the fastest TensorFlow.js backend this machine can run, in the order the brief fixes:
 * native GPU → native CPU → WebAssembly → plain JS. Native TensorFlow is an optional dependency (its
 * install downloads libtensorflow, which fails offline), so each candidate is tried and, when it cannot
 * load, the reason is kept for the log. The wasm backend runs tfjs-backend-wasm's threaded build on up to
 * two cores (./wasm-threads.ts; STYLIZE_WASM_THREADS=1 keeps the stock single-threaded build), falling back
 * to the stock build when the threaded one cannot load.
 */

export const BACKEND_ORDER: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

export interface BackendChoice {
  readonly name: BackendName;
  /** Why each backend before the chosen one was skipped. */
  readonly skipped: readonly { name: BackendName; reason: string }[];
  /** wasm only: threads its kernels run on (1 = the stock single-threaded build). */
  readonly threads?: number;
}

const require = createRequire(import.meta.url);

/**
 * STYLIZE_WASM_THREADS: threads for the wasm backend. Unset, empty or "auto": min(2, available cores)
 * (2 measured ~1.8–2× faster per conv here; more threads are untested). 1: the stock single-threaded build.
 */
export function parseWasmThreads(value: string | undefined): number {
  if (value === undefined || value.trim() === "" || value.trim() === "auto")
    return Math.min(2, os.availableParallelism());
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS)
    throw new Error(
      `STYLIZE_WASM_THREADS must be auto or a whole number 1–${MAX_WASM_THREADS}; got "${value}"`,
    );
  return threads;
}

/** Makes `name` tfjs's active backend; for wasm, returns the thread count it runs on. */
async function activate(
  name: BackendName,
  wasmThreads: number,
  log: Logger | undefined,
): Promise<number | undefined> {
  let threads: number | undefined;
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
  const tfName = name === "tensorflow-gpu" ? "tensorflow" : name;
  if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend("${tfName}") returned false`);
  await tf.ready();
  return threads;
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

let chosen: Promise<BackendChoice> | undefined;
/** Whether the wasm backend is the active one, and whether releaseBackend() was called. */
let activeWasm = false;
let released = false;

/**
 * Initialise the backend once per process (later calls return the first choice).
 * `forced` (from STYLIZE_BACKEND) tries only that backend and fails loudly if it cannot load.
 */
export function initBackend(options: { forced?: BackendName; log?: Logger } = {}): Promise<BackendChoice> {
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

async function selectBackend({
  forced,
  log,
}: {
  forced?: BackendName;
  log?: Logger;
}): Promise<BackendChoice> {
  const candidates = forced ? [forced] : BACKEND_ORDER;
  // Parsed up front so that a bad value fails loudly instead of making the chain skip wasm.
  const wasmThreads = candidates.includes("wasm") ? parseWasmThreads(process.env.STYLIZE_WASM_THREADS) : 1;
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of candidates) {
    try {
      const threads = await activate(name, wasmThreads, log);
      activeWasm = name === "wasm";
      for (const skip of skipped) log?.info({ backend: skip.name, reason: skip.reason }, "backend skipped");
      log?.info(
        { backend: name, forced: Boolean(forced), ...(threads !== undefined && { threads }) },
        `running on the ${name} backend`,
      );
      return { name, skipped, ...(threads !== undefined && { threads }) };
    } catch (error) {
      const reason = firstLine(error);
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
