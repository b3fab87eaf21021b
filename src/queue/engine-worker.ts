import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { initBackend, loadVggWeights, type StylizeEvent, stylize, type VggWeights } from "../engine/index.js";
import { createLogger } from "../log.js";
import {
  type EngineRequest,
  type EngineWorkerData,
  type FromWorker,
  type ToWorker,
  transferableImage,
} from "./engine-protocol.js";

/**
 * An engine worker thread: loads the weights and the backend once, then runs one job at a time for the
 * bot, posting each StylizeEvent back. Cancellation arrives as a message and aborts the run's signal.
 */

if (isMainThread || !parentPort) throw new Error("engine-worker.js must run inside a worker thread");
const port = parentPort;
const config = workerData as EngineWorkerData;
const log = createLogger({ level: config.logLevel, name: "stylize-engine" });
const running = new Map<string, AbortController>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function postEvent(jobId: string, event: StylizeEvent): void {
  if (event.type === "preview" || event.type === "done") {
    const { image, transfer } = transferableImage(event.image);
    post({ type: "event", jobId, event: { ...event, image } }, transfer);
  } else {
    post({ type: "event", jobId, event });
  }
}

async function run(weights: VggWeights, jobId: string, request: EngineRequest): Promise<void> {
  const controller = new AbortController();
  running.set(jobId, controller);
  try {
    for await (const event of stylize(weights, request, controller.signal)) {
      postEvent(jobId, event);
      if (controller.signal.aborted) break;
    }
    if (controller.signal.aborted) post({ type: "cancelled", jobId });
  } catch (error) {
    if (controller.signal.aborted) post({ type: "cancelled", jobId });
    else {
      log.error({ err: error, jobId }, "engine run failed");
      post({ type: "failed", jobId, message: error instanceof Error ? error.message : String(error) });
    }
  } finally {
    running.delete(jobId);
  }
}

async function main(): Promise<void> {
  let weights: VggWeights;
  try {
    // In this order: the tfjs-folder loader decodes weights with tfjs, which needs the backend ready
    // (wasm initialises asynchronously).
    const backend = await initBackend({ forced: config.backend, threads: config.threads, log });
    weights = await loadVggWeights(config.weightsLocation);
    post({ type: "ready", backend: backend.name });
  } catch (error) {
    post({ type: "init-failed", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on("message", (message: ToWorker) => {
    if (message.type === "run") void run(weights, message.jobId, message.request);
    else running.get(message.jobId)?.abort(new Error("cancelled"));
  });
}

void main();
