import os from "node:os";
import { Worker } from "node:worker_threads";
import type { BackendName, StylizeEvent, ThreadSetting } from "../engine/index.js";
import type { Logger } from "../log.js";
import {
  type EngineRequest,
  type EngineWorkerData,
  type FromWorker,
  transferableCopy,
} from "./engine-protocol.js";

/**
 * Engine worker threads, one per queue slot, so optimisation never blocks the bot's event loop (and with
 * it the gateway heartbeat). A worker loads weights once and serves jobs one after another. When a worker
 * dies mid-run, that job alone fails and the next job gets a fresh worker.
 */

export type DoneEvent = Extract<StylizeEvent, { type: "done" }>;

export class JobCancelledError extends Error {
  override readonly name = "JobCancelledError";
  constructor() {
    super("the job was cancelled");
  }
}

/** The worker died during the run (crash, out of memory); the message is safe to show. */
export class EngineCrashedError extends Error {
  override readonly name = "EngineCrashedError";
}

/** The engine could not start (missing weights, unusable backend); the message says why. */
export class EngineUnavailableError extends Error {
  override readonly name = "EngineUnavailableError";
}

export interface EnginePoolOptions {
  readonly size: number;
  readonly workerData: EngineWorkerData;
  /** The compiled worker script; tests pass a bundled copy of the TypeScript source. */
  readonly script?: URL | string;
  readonly log: Logger;
  /** After a cancel, how long a worker may take to stop before it is terminated and replaced. */
  readonly cancelGraceMs?: number;
}

export interface RunHandlers {
  readonly onEvent: (event: StylizeEvent) => void;
  readonly signal?: AbortSignal;
}

interface CurrentRun {
  readonly jobId: string;
  readonly handlers: RunHandlers;
  readonly resolve: (done: DoneEvent) => void;
  readonly reject: (error: Error) => void;
}

const DEFAULT_SCRIPT = new URL("./engine-worker.js", import.meta.url);

class EngineSlot {
  #worker: Worker | undefined;
  #ready: Promise<BackendName> | undefined;
  #current: CurrentRun | undefined;
  busy = false;

  constructor(
    private readonly options: EnginePoolOptions,
    private readonly workerData: EngineWorkerData,
  ) {}

  /** Starts the worker if needed and resolves once its weights and backend are loaded. */
  ready(): Promise<BackendName> {
    this.#ready ??= this.#spawn();
    return this.#ready;
  }

  #spawn(): Promise<BackendName> {
    const worker = new Worker(this.options.script ?? DEFAULT_SCRIPT, { workerData: this.workerData });
    this.#worker = worker;
    return new Promise<BackendName>((resolve, reject) => {
      let started = false;
      worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") {
          started = true;
          resolve(message.backend);
        } else if (message.type === "init-failed") {
          this.#discard(worker);
          reject(new EngineUnavailableError(message.message));
        } else this.#onJobMessage(message);
      });
      // Both "error" and "exit" fire for a crash; only the first, while this is still the live worker, counts.
      worker.on("error", (error) => {
        if (this.#worker !== worker) return;
        this.options.log.error({ err: error }, "engine worker crashed");
        this.#discard(worker);
        if (!started) reject(new EngineUnavailableError(`the engine failed to start: ${error.message}`));
        this.#current?.reject(
          new EngineCrashedError(`the engine crashed during this job (${error.message})`),
        );
      });
      worker.on("exit", (code) => {
        if (this.#worker !== worker) return;
        this.options.log.error({ code }, "engine worker exited");
        this.#discard(worker);
        if (!started) reject(new EngineUnavailableError(`the engine exited while starting (code ${code})`));
        this.#current?.reject(
          new EngineCrashedError(`the engine stopped unexpectedly during this job (code ${code})`),
        );
      });
    });
  }

  async run(jobId: string, request: EngineRequest, handlers: RunHandlers): Promise<DoneEvent> {
    await this.ready();
    const worker = this.#worker!;
    if (handlers.signal?.aborted) throw new JobCancelledError();
    const copies = [request.content, ...request.styles.map((s) => s.image)].map(transferableCopy);
    const message = {
      type: "run" as const,
      jobId,
      request: {
        ...request,
        content: copies[0]!.image,
        styles: request.styles.map((style, i) => ({ ...style, image: copies[i + 1]!.image })),
      },
    };
    return new Promise<DoneEvent>((resolve, reject) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        worker.postMessage({ type: "cancel", jobId });
        // A worker stuck inside one long kernel cannot read the cancel message; replace it.
        graceTimer = setTimeout(() => {
          this.options.log.warn({ jobId }, "engine worker ignored a cancel; terminating it");
          this.#current?.reject(new JobCancelledError());
          this.#discard(worker);
        }, this.options.cancelGraceMs ?? 10_000);
      };
      const settle = () => {
        clearTimeout(graceTimer);
        handlers.signal?.removeEventListener("abort", onAbort);
        this.#current = undefined;
      };
      this.#current = {
        jobId,
        handlers,
        resolve: (done) => {
          settle();
          resolve(done);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      handlers.signal?.addEventListener("abort", onAbort, { once: true });
      worker.postMessage(
        message,
        copies.flatMap((c) => c.transfer),
      );
    });
  }

  #onJobMessage(message: Exclude<FromWorker, { type: "ready" | "init-failed" }>): void {
    const current = this.#current;
    if (!current || current.jobId !== message.jobId) return;
    switch (message.type) {
      case "event":
        if (message.event.type === "done") current.resolve(message.event);
        else current.handlers.onEvent(message.event);
        break;
      case "failed":
        current.reject(new Error(message.message));
        break;
      case "cancelled":
        current.reject(new JobCancelledError());
        break;
    }
  }

  /** Forget a dead or failed worker so the next run spawns a fresh one. */
  #discard(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    worker.removeAllListeners("message");
    void worker.terminate();
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    await worker?.terminate();
  }
}

export class EnginePool {
  readonly #slots: EngineSlot[];

  constructor(options: EnginePoolOptions) {
    const workerData = {
      ...options.workerData,
      threads: threadsPerWorker(options.workerData.threads, options.size),
    };
    this.#slots = Array.from({ length: options.size }, () => new EngineSlot(options, workerData));
  }

  /** Start every worker now so the first job doesn't pay for loading weights. */
  async warmUp(): Promise<BackendName> {
    const backends = await Promise.all(this.#slots.map((slot) => slot.ready()));
    return backends[0]!;
  }

  /**
   * Runs one job on a free worker; resolves with the final event, rejects with JobCancelledError,
   * EngineCrashedError, EngineUnavailableError or the engine's own error. The caller (the queue) never
   * runs more jobs at once than there are workers.
   */
  async run(jobId: string, request: EngineRequest, handlers: RunHandlers): Promise<DoneEvent> {
    const slot = this.#slots.find((s) => !s.busy);
    if (!slot) throw new Error("EnginePool.run called with every worker busy");
    slot.busy = true;
    try {
      return await slot.run(jobId, request, handlers);
    } finally {
      slot.busy = false;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.close()));
  }
}

/**
 * Shares the cores between the workers: each one's CPU backend (onnxruntime or wasm) gets cores ÷ workers
 * threads unless STYLIZE_THREADS says otherwise, so that concurrent jobs do not oversubscribe the CPU.
 */
function threadsPerWorker(configured: ThreadSetting, workers: number): ThreadSetting {
  if (configured !== "auto") return configured;
  return Math.max(1, Math.floor(os.availableParallelism() / workers));
}
