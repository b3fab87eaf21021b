import {
  initBackend,
  loadVggWeights,
  type RgbImage,
  stylize,
  type VggWeights,
  warmUp,
} from "../engine/index.js";
import { decodeImage, encodeImage, fitWithin, resizeImage, scaleToLongEdge } from "../images/index.js";
import { createLogger, type Logger } from "../log.js";
import type { EngineEvent, EngineHostConfig, EngineJob, FromEngine, ToEngine } from "./engine-protocol.js";
import type { EncodedImage } from "./events.js";

/**
 * An engine process (forked by engine-process.ts): loads the backend and the weights once, then runs one
 * job at a time, sending events back over IPC. A native crash here ends only this process; the parent
 * fails the job and starts a fresh one. Cancellation arrives as a message and aborts the run's signal.
 */

const send = process.send?.bind(process);
if (!send) throw new Error("engine-host must be started with an IPC channel (child_process.fork)");

const PREVIEW_QUALITY = 75;
/** Paintings are matched at about the output's size, so larger ones are scaled down when decoded. */
const STYLE_MAX_EDGE = 1024;
const FRAME_QUALITY = 85;

function post(message: FromEngine): void {
  // A parent killed with -9 leaves a closed channel (EPIPE): the disconnect handler below ends us quietly.
  if (!process.connected) return;
  send!(message, undefined, undefined, () => undefined);
}

async function encoded(image: RgbImage, format: "png" | "jpeg", quality?: number): Promise<EncodedImage> {
  const data = await encodeImage(image, { format, quality });
  return { data, format, width: image.width, height: image.height };
}

async function resizedTo(image: RgbImage, size: { width: number; height: number }): Promise<RgbImage> {
  return size.width === image.width && size.height === image.height
    ? image
    : resizeImage(image, size.width, size.height);
}

async function decoded(bytes: Uint8Array, maxEdge?: number): Promise<RgbImage> {
  // The bytes were checked when they were uploaded; the default limits still apply.
  return (await decodeImage(bytes, { maxEdge })).image;
}

async function run(
  weights: VggWeights,
  jobId: string,
  job: EngineJob,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const content = await decoded(job.content);
  const styles = await Promise.all(
    job.styles.map(async (s) => ({ image: await decoded(s.image, STYLE_MAX_EDGE), weight: s.weight })),
  );
  const initImage = job.initImage && (await decoded(job.initImage));
  const request = { ...job.options, content, styles, ...(initImage && { initImage }) };
  let outputSize = scaleToLongEdge(content.width, content.height, job.options.size ?? content.width);
  const frameSize = () => fitWithin(outputSize.width, outputSize.height, job.frameEdge);
  const forward = (event: EngineEvent) => post({ type: "event", jobId, event });
  for await (const event of stylize(weights, request, signal)) {
    switch (event.type) {
      case "start":
        outputSize = event.plan.at(-1) ?? outputSize;
        forward(event);
        break;
      case "step":
        forward(event);
        break;
      case "preview":
        forward({
          type: "preview",
          overallStep: event.overallStep,
          preview: await encoded(await resizedTo(event.image, outputSize), "jpeg", PREVIEW_QUALITY),
          frame: await encoded(await resizedTo(event.image, frameSize()), "jpeg", FRAME_QUALITY),
        });
        break;
      case "done":
        forward({
          type: "done",
          image: await encoded(event.image, "png"),
          frame: await encoded(await resizedTo(event.image, frameSize()), "jpeg", FRAME_QUALITY),
          elapsedMs: event.elapsedMs,
          totalSteps: event.totalSteps,
        });
        break;
    }
    if (signal.aborted) break;
  }
  if (signal.aborted) throw signal.reason;
  log.debug({ jobId }, "engine run finished");
}

/**
 * Readies the default objective's network before the first job, so a job computes within a second of
 * leaving the queue. Weights that lack the default layers still serve jobs that choose others.
 */
async function warm(weights: VggWeights, log: Logger): Promise<void> {
  const started = performance.now();
  try {
    await warmUp(weights);
    log.debug({ ms: Math.round(performance.now() - started) }, "engine warmed up");
  } catch (error) {
    log.warn({ err: error }, "engine not warmed up: jobs build their network when they start");
  }
}

async function serve(config: EngineHostConfig): Promise<void> {
  const log = createLogger({ level: config.logLevel, name: "stylize-engine" });
  let weights: VggWeights;
  try {
    // In this order: the tfjs-folder loader decodes weights with tfjs, which needs the backend ready.
    const backend = await initBackend({ forced: config.backend, threads: config.threads, log });
    weights = await loadVggWeights(config.weightsLocation, config.weightsOrigin);
    await warm(weights, log);
    post({ type: "ready", backend: backend.name });
  } catch (error) {
    post({ type: "init-failed", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const running = new Map<string, AbortController>();
  process.on("message", (message: ToEngine) => {
    if (message.type === "cancel") {
      running.get(message.jobId)?.abort(new Error("cancelled"));
      return;
    }
    if (message.type !== "run") return;
    const controller = new AbortController();
    running.set(message.jobId, controller);
    run(weights, message.jobId, message.job, controller.signal, log)
      .catch((error: unknown) => {
        if (controller.signal.aborted) post({ type: "cancelled", jobId: message.jobId });
        else {
          log.error({ err: error, jobId: message.jobId }, "engine run failed");
          post({ type: "failed", jobId: message.jobId, message: (error as Error)?.message ?? String(error) });
        }
      })
      .finally(() => running.delete(message.jobId));
  });
}

process.once("message", (message: ToEngine) => {
  if (message.type === "init") void serve(message.config);
});
// The parent going away (crash, kill -9) closes the channel: nothing is left to work for.
process.on("disconnect", () => process.exit(0));
