/**
 * Multithreaded tfjs-backend-wasm under Node (proposal for src/engine/backend.ts; bench-only for now).
 *
 * tfjs-backend-wasm 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` (XNNPACK + pthreadpool) but never
 * uses it under Node, for three separate reasons, each handled here:
 *  1. Its `WASM_HAS_MULTITHREAD_SUPPORT` flag returns false whenever `IS_NODE` (tfjs issue 3830), so its
 *     `init()` picks the single-threaded SIMD binary. → We do not go through `init()`: we call the
 *     emscripten factory of the threaded build (`wasm-out/tfjs-backend-wasm-threaded-simd.js`, shipped in
 *     the package) ourselves and wrap the result in the package's own exported `BackendWasm`.
 *  2. Its pthread workers are created from `blob:` URLs (worker script and main script), which Node's
 *     `worker_threads` cannot open. → `locateFile` returns a `data:` URL (an ES module that gives the
 *     emscripten worker script the CommonJS globals it expects, then evaluates it), and
 *     `mainScriptUrlOrBlob` is the main script's file path, which the worker loads with `fs`.
 *  3. The C++ side caps the pool at `emscripten_num_logical_cores() / 2` (it assumes two hyperthreads per
 *     core), so on a 2-vCPU host even the browser path gets one thread, and `setThreadsCount(2)` cannot
 *     raise it. → Our `instantiateWasm` hook instantiates the binary with that import answering
 *     `2 * threads`.
 * Kernels are the package's own (registered for "wasm"; copied when registering under another name).
 *
 * Lifetime: pthreads keep the event loop alive. Call `tf.removeBackend(name)` (BackendWasm.dispose()
 * terminates the workers) or exit the process explicitly when done.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";

const require = createRequire(import.meta.url);

export interface ThreadedWasmOptions {
  /** Backend name to register; "wasm" replaces the package's single-threaded registration. */
  readonly name?: string;
  /** pthreadpool size (XNNPACK caps it at 8). Default: os.availableParallelism(). */
  readonly threads?: number;
  /** tf backend priority (the package registers "wasm" with 2). */
  readonly priority?: number;
}

/** The few WebAssembly APIs used here (the project's lib/types settings do not declare WebAssembly). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }>;
}
const WasmJs = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface EmscriptenModule {
  HEAPU8: Uint8Array;
  wasmMemory: WasmMemory;
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => unknown;
  tfjs?: unknown;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/** True when this Node can run the threaded build at all (shared wasm memory + worker_threads). */
export function threadedWasmSupported(): boolean {
  try {
    const memory = new WasmJs.Memory({ initial: 1, maximum: 1, shared: true });
    return memory.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * Register a tfjs backend running the threaded-SIMD wasm binary with `threads` threads.
 * Call before `tf.setBackend(name)`. Throws when shared wasm memory is unavailable.
 */
export async function registerThreadedWasm(options: ThreadedWasmOptions = {}): Promise<string> {
  const name = options.name ?? "wasm";
  const threads = Math.max(1, Math.min(8, options.threads ?? os.availableParallelism()));
  if (!threadedWasmSupported()) throw new Error("this Node has no shared WebAssembly memory");

  // Importing the package registers its kernels (and its own single-threaded "wasm" backend).
  const wasmPkg = await import("@tensorflow/tfjs-backend-wasm");
  const outDir = path.dirname(
    require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js"),
  );
  const mainJs = path.join(outDir, "tfjs-backend-wasm-threaded-simd.js");
  const wasmFile = path.join(outDir, "tfjs-backend-wasm-threaded-simd.wasm");
  const factory = require(mainJs) as Factory;
  // The package ships the worker script as a JS string with "\n" unescaped (its own init escapes it too).
  const { wasmWorkerContents } = require(path.join(outDir, "tfjs-backend-wasm-threaded-simd.worker.js")) as {
    wasmWorkerContents: string;
  };
  const workerSource = [
    `import { createRequire } from "node:module";`,
    `globalThis.require = createRequire(${JSON.stringify(pathToFileURL(mainJs).href)});`,
    `globalThis.__filename = ${JSON.stringify(mainJs)};`,
    `(0, eval)(${JSON.stringify(wasmWorkerContents.replace(/\n/g, "\\n"))});`,
  ].join("\n");
  const workerUrl = new URL(`data:text/javascript,${encodeURIComponent(workerSource)}`);

  if (name !== "wasm") {
    for (const kernel of tf.getKernelsForBackend("wasm")) {
      if (!tf.getKernel(kernel.kernelName, name)) tf.registerKernel({ ...kernel, backendName: name });
    }
  }
  if (tf.findBackendFactory(name)) tf.removeBackend(name);

  const registered = tf.registerBackend(
    name,
    async () => {
      let failed: (error: unknown) => void = () => {};
      const failure = new Promise<never>((_, reject) => {
        failed = reject;
      });
      const module = await Promise.race([
        failure,
        factory({
          mainScriptUrlOrBlob: mainJs,
          locateFile: (file: string) => (file.endsWith(".worker.js") ? workerUrl : path.join(outDir, file)),
          instantiateWasm(
            info: { env: Record<string, unknown> },
            receiveInstance: (instance: unknown, module: unknown) => void,
          ) {
            // Read once at C++ static init: pool size = min(requested, this / 2).
            info.env.emscripten_num_logical_cores = () => 2 * threads;
            WasmJs.instantiate(readFileSync(wasmFile), info).then(
              ({ instance, module }) => receiveInstance(instance, module),
              failed,
            );
            return {};
          },
          onAbort: (what: unknown) => failed(new Error(`threaded wasm aborted: ${String(what)}`)),
        }),
      ]);
      guardHeapViews(module);
      module.tfjs = {
        init: module.cwrap("init", null, []),
        initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
        getThreadsCount: module.cwrap("get_threads_count", "number", []),
        registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
        disposeData: module.cwrap("dispose_data", null, ["number"]),
        dispose: module.cwrap("dispose", null, []),
      };
      wasmPkg.setThreadsCount(threads); // read by the BackendWasm constructor
      // biome-ignore lint/suspicious/noExplicitAny: BackendWasm's module type is not exported by the package
      return new wasmPkg.BackendWasm(module as any);
    },
    options.priority ?? 2,
  );
  if (!registered) throw new Error(`could not register backend "${name}"`);
  return name;
}

/**
 * With shared memory, a heap growth makes a new SharedArrayBuffer; emscripten refreshes Module.HEAPU8
 * only when the growth happens on the main thread. BackendWasm reads `wasm.HEAPU8` directly, so make it
 * re-derive the view when the memory's buffer changed (cheap identity check).
 */
function guardHeapViews(module: EmscriptenModule): void {
  const memory = module.wasmMemory;
  let view = new Uint8Array(memory.buffer);
  Object.defineProperty(module, "HEAPU8", {
    configurable: true,
    get: () => {
      if (view.buffer !== memory.buffer || view.byteLength !== memory.buffer.byteLength) {
        view = new Uint8Array(memory.buffer);
      }
      return view;
    },
    set: (v: Uint8Array) => {
      view = v;
    },
  });
}
