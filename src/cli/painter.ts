import { initBackend, loadVggWeights, releaseBackend, resolveOptions, stylize } from "../engine/index.js";
import { createLogger } from "../log.js";
import { adviseLayers, layerAdviceMessage } from "./layer-advice.js";
import type { FromPainter, PaintJob } from "./painter-protocol.js";

/**
 * The painter process of the `stylize` command: it runs the engine and streams its events back. It sets
 * no SIGINT handler on purpose: Ctrl-C, which the terminal sends to the whole process group, ends it at
 * once even in the middle of a native onnxruntime or wasm kernel, where no JavaScript handler could run.
 * The command itself does none of this work, so its event loop is free to restore the terminal.
 */

function send(message: FromPainter): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

async function paint(job: PaintJob): Promise<void> {
  const log = createLogger({ level: job.logLevel });
  // Options first: a bad one fails before the slow set-up (backend, ~80 MB of weights).
  const options = resolveOptions(job.request);
  // The tfjs-folder weight loader needs the backend ready, so the backend comes first.
  await initBackend({ forced: job.backend, threads: job.threads, log });
  const weights = await loadVggWeights(job.weightsLocation, job.weightsOrigin);
  const chosen = {
    contentLayers: options.contentLayers,
    styleLayers: options.styleLayers.map((s) => s.layer),
  };
  const advice = adviseLayers(weights.keys(), chosen);
  if (advice) throw new Error(layerAdviceMessage(job.weightsLocation, advice));
  for await (const event of stylize(weights, job.request)) await send({ type: "event", event });
}

// The command closing the channel means it is gone: nobody is waiting for the painting any more.
process.on("disconnect", () => process.exit(1));
process.once("message", (job: PaintJob) => {
  paint(job)
    .catch((error: unknown) =>
      send({
        type: "failed",
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      }),
    )
    .finally(() => {
      releaseBackend(); // ends the wasm backend's threads now rather than at exit
      process.exit(0);
    });
});
void send({ type: "ready" });
