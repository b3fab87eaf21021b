import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Multithreaded tfjs-backend-wasm under Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded build (`wasm-out/tfjs-backend-wasm-threaded-simd.*`: XNNPACK on a
 * pthreadpool of emscripten pthreads) but never uses it under Node, for three separate reasons; measured
 * here, 2 threads run forward convs ~1.8–2× faster than the stock single-threaded build, with the same
 * results (docs/performance.md §2). Each reason is handled without touching node_modules:
 *
 *  1. Its `WASM_HAS_MULTITHREAD_SUPPORT` flag is false whenever `IS_NODE` (tfjs issue 3830), so its `init()`
 *     loads the single-threaded binary. → We do not go through `init()`: we call the threaded build's
 *     emscripten factory ourselves and wrap the module in the package's exported `BackendWasm`, so every
 *     kernel is the package's own.
 *  2. `init()` hands emscripten `blob:` URLs for the pthread worker script and the main script, which
 *     Node's `worker_threads` cannot open. → `locateFile` returns a `data:` URL holding a small ES module
 *     that defines the CommonJS globals the emscripten worker script expects, then evaluates it; the main
 *     script is given as a file path, which that worker script loads with `fs`.
 *  3. The C++ side sizes its pool as `emscripten_num_logical_cores() / 2` ("two hyperthreads per core"), so
 *     a 2-vCPU host would get one thread and `setThreadsCount(2)` cannot raise it. → Our `instantiateWasm`
 *     hook answers that import with `2 × threads`.
 *
 * Lifetime: running pthreads would keep the event loop alive, so a process that forgot to release the
 * backend would never exit. Once the backend is up, its pthreadpool threads are fixed (pthreadpool creates
 * them once, and tfjs never starts another thread), and the main thread only ever waits for them
 * synchronously inside a kernel call; so their workers are `unref()`ed: they can never hold a process open,
 * and die with it. The 7 workers emscripten preloads beyond the pool (its pool size is compiled in as 8)
 * are terminated, ~50 MB of RSS. `tf.removeBackend(name)` (BackendWasm.dispose()) still ends the workers
 * early, which is tidier at the end of a run.
 */

const require = createRequire(import.meta.url);

/** The pthreadpool size XNNPACK accepts, and the number of workers emscripten preloads. */
export const MAX_WASM_THREADS = 8;

/** The few WebAssembly APIs used here (the project's lib settings do not declare WebAssembly). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }>;
}
const WasmJs = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A pthread's worker, as emscripten keeps it (a worker_threads Worker under Node). */
interface PthreadWorker {
  unref(): void;
  terminate(): unknown;
}

/** The parts of the emscripten module (= the config object passed to the factory) used here. */
interface ThreadedModule {
  HEAPU8: Uint8Array;
  wasmMemory: WasmMemory;
  cwrap(name: string, ret: "number" | null, args: "number"[]): (...args: number[]) => unknown;
  PThread: {
    unusedWorkers: PthreadWorker[];
    runningWorkers: PthreadWorker[];
    terminateAllThreads(): void;
  };
  tfjs?: unknown;
}

type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/** True when this Node can run the threaded build at all (shared WebAssembly memory). */
export function threadedWasmSupported(): boolean {
  try {
    return new WasmJs.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

export interface ThreadedWasmBackend {
  readonly backend: tf.KernelBackend;
  /** Threads the pool really has (the calling thread included), as the C++ side reports it. */
  readonly threads: number;
}

/**
 * Load the threaded build with `threads` threads (the calling thread included; 1–8, 1 being useful only to
 * measure the threaded build's overhead) and wrap it in the package's BackendWasm. Rejects, leaving no
 * worker behind, when shared memory is unavailable, the module fails to load, or it is not ready within
 * `timeoutMs`.
 */
export async function createThreadedWasmBackend(
  threads: number,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<ThreadedWasmBackend> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS)
    throw new Error(`threaded wasm takes 1–${MAX_WASM_THREADS} threads, got ${threads}`);
  if (!threadedWasmSupported()) throw new Error("this Node has no shared WebAssembly memory");

  // Importing the package registers its kernels for "wasm" (and its stock single-threaded factory).
  const wasmPkg = await import("@tensorflow/tfjs-backend-wasm");
  const mainJs = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const outDir = path.dirname(mainJs);
  const wasmBytes = await readFile(path.join(outDir, "tfjs-backend-wasm-threaded-simd.wasm"));
  const factory = require(mainJs) as Factory;
  // The package exports the pthread worker script as a string whose "\n" escapes were unescaped by the
  // template literal; re-escape them, as the package's own init() does.
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

  let fail: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  let settled = false;
  // emscripten fills in this same object (MODULARIZE: the config object becomes the Module), so its
  // PThread is reachable for clean-up even when the factory's promise never settles.
  const config: Record<string, unknown> = {
    mainScriptUrlOrBlob: mainJs,
    locateFile: (file: string) => (file.endsWith(".worker.js") ? workerUrl : path.join(outDir, file)),
    instantiateWasm(
      imports: { env: Record<string, unknown> },
      receiveInstance: (instance: unknown, module: unknown) => void,
    ) {
      // Read once, at C++ static init: pool size = min(requested, this / 2).
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      WasmJs.instantiate(wasmBytes, imports).then(({ instance, module }) => {
        if (!settled) receiveInstance(instance, module); // the module goes on to the pthread workers
      }, fail);
      return {}; // asynchronous instantiation
    },
    onAbort: (what: unknown) => fail(new Error(`threaded wasm aborted: ${String(what)}`)),
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`threaded wasm not ready after ${timeoutMs} ms`)), timeoutMs);
  });
  let module: ThreadedModule | undefined;
  try {
    module = await Promise.race([factory(config), failure, timeout]);
    guardHeapViews(module);
    // The C++ entry points BackendWasm calls, wrapped as the package's own init() does.
    const tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []) as () => number,
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    module.tfjs = tfjs;
    wasmPkg.setThreadsCount(threads); // read by the BackendWasm constructor (init_with_threads_count)
    const backend = new wasmPkg.BackendWasm(
      module as unknown as ConstructorParameters<typeof wasmPkg.BackendWasm>[0],
    );
    const actual = tfjs.getThreadsCount();
    // The pool's threads are running now and will be for the backend's life; nothing else starts one.
    const { PThread } = module;
    for (const worker of PThread.unusedWorkers.splice(0)) void worker.terminate();
    for (const worker of PThread.runningWorkers) worker.unref();
    return { backend, threads: actual };
  } catch (error) {
    ((module ?? config) as Partial<ThreadedModule>).PThread?.terminateAllThreads();
    throw error;
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}

/**
 * Create the threaded backend and register it under `name`: "wasm" replaces the package's stock
 * single-threaded registration (kernels are shared); another name copies the "wasm" kernel registrations,
 * so stock and threaded backends can be compared in one process (scripts/bench/wasm-conv.ts). The backend
 * is built before registering, so failures reject here instead of becoming tfjs console warnings inside
 * `tf.setBackend`; the stock registration is only replaced on success. Call `tf.setBackend(name)` next.
 */
export async function registerThreadedWasm(options: {
  threads: number;
  name?: string;
  /** tfjs backend priority (the package registers "wasm" with 2). */
  priority?: number;
  timeoutMs?: number;
}): Promise<ThreadedWasmBackend> {
  const name = options.name ?? "wasm";
  const created = await createThreadedWasmBackend(
    options.threads,
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
  if (name !== "wasm") {
    for (const kernel of tf.getKernelsForBackend("wasm")) {
      if (!tf.getKernel(kernel.kernelName, name)) tf.registerKernel({ ...kernel, backendName: name });
    }
  }
  if (tf.findBackendFactory(name)) tf.removeBackend(name);
  if (!tf.registerBackend(name, () => created.backend, options.priority ?? 2)) {
    created.backend.dispose();
    throw new Error(`could not register backend "${name}"`);
  }
  return created;
}

/**
 * With shared memory, a heap growth makes a new SharedArrayBuffer, and emscripten refreshes
 * `Module.HEAPU8` only when the growth happens on the main thread, not when an XNNPACK thread grows it.
 * BackendWasm reads `wasm.HEAPU8` directly, so make it re-derive the view when the buffer changed (an
 * identity check per access). emscripten's own writes go through the setter.
 */
function guardHeapViews(module: ThreadedModule): void {
  const memory = module.wasmMemory;
  let view = new Uint8Array(memory.buffer);
  Object.defineProperty(module, "HEAPU8", {
    configurable: true,
    get: () => {
      const buffer = memory.buffer;
      if (view.buffer !== buffer || view.byteLength !== buffer.byteLength) view = new Uint8Array(buffer);
      return view;
    },
    set: (value: Uint8Array) => {
      view = value;
    },
  });
}
