import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { SingleBar } from "cli-progress";
import { configOrExit, type EngineConfig, loadEngineConfig } from "../config.js";
import { formatDuration } from "../duration.js";
import {
  initBackend,
  loadVggWeights,
  releaseBackend,
  resolveOptions,
  type StylizeEvent,
  stylize,
} from "../engine/index.js";
import { decodeImage, encodeFile, ImageInputError } from "../images/index.js";
import { createLogger } from "../log.js";
import { type CliRequest, parseCliArgs } from "./args.js";

/**
 * `stylize`: paint one photo locally, with a terminal progress bar. Honours the bot's engine variables
 * (STYLIZE_BACKEND, STYLIZE_THREADS, STYLIZE_WEIGHTS, STYLIZE_MODELS_DIR, LOG_LEVEL); a flag wins over its
 * variable.
 */

const config = configOrExit(() => loadEngineConfig(process.env, process.cwd(), "warn"));
const log = createLogger({ level: config.logLevel });

async function readImageFile(file: string, role: string) {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new UserError(
      `cannot read the ${role} image "${file}": ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  try {
    return (await decodeImage(bytes)).image;
  } catch (error) {
    if (error instanceof ImageInputError)
      throw new UserError(`the ${role} image "${file}": ${error.message}`);
    throw error;
  }
}

class UserError extends Error {}

async function run(request: CliRequest, config: EngineConfig): Promise<void> {
  // The quick checks first (images, options), then the slow set-up (backend, ~80 MB of weights).
  const content = await readImageFile(request.content, "content");
  const styles = await Promise.all(
    request.styles.map(async (s) => ({ image: await readImageFile(s.path, "style"), weight: s.weight })),
  );
  const options = resolveOptions({
    content,
    styles,
    size: request.size,
    quality: request.quality,
    strength: request.strength,
    optimizer: request.optimizer,
    pooling: request.pooling,
    init: request.init,
    colorMode: request.colorMode,
    styleScale: request.styleScale,
    previewEverySteps: request.framesDir ? 10 : 0,
    previewEverySeconds: 0,
    // resolveOptions takes undefined as "the default".
    seed: request.seed,
    contentLayers: request.contentLayers,
    styleLayers: request.styleLayers?.map((layer) => ({ layer, weight: 1 })),
    stepsPerScale: request.stepsPerScale,
    scales: request.scales,
  });
  // The tfjs-folder weight loader needs the backend ready, so the backend comes first.
  const backend = await initBackend({
    forced: request.backend ?? config.backend,
    threads: config.threads,
    log,
  });
  const weights = await loadVggWeights(request.weights ?? config.weightsLocation);
  if (request.framesDir) await mkdir(request.framesDir, { recursive: true });

  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort(new Error("cancelled (Ctrl-C)")));
  const bar = new SingleBar({
    format: "{bar} {percentage}% | step {value}/{total} | scale {scale} | loss {loss} | ETA {eta_s}",
    hideCursor: true,
    noTTYOutput: !request.quiet,
    notTTYSchedule: 5000,
  });
  let frame = 0;
  let scaleCount = 0;
  for await (const event of stylize(weights, options, abort.signal) as AsyncIterable<StylizeEvent>) {
    switch (event.type) {
      case "start": {
        scaleCount = event.plan.length;
        const sizes = event.plan.map((s) => `${s.width}×${s.height}×${s.steps}`).join(" → ");
        process.stderr.write(`backend ${backend.name}, seed ${event.seed}, scales ${sizes}\n`);
        if (!request.quiet) bar.start(event.totalSteps, 0, { scale: "-", loss: "-", eta_s: "-" });
        break;
      }
      case "step":
        if (!request.quiet) {
          bar.update(event.overallStep, {
            scale: `${event.scale + 1}/${scaleCount}`,
            loss: event.losses.total.toExponential(3),
            eta_s: formatDuration(event.etaMs),
          });
        }
        break;
      case "preview":
        if (request.framesDir) {
          frame += 1;
          await encodeFile(
            event.image,
            path.join(request.framesDir, `frame-${String(frame).padStart(4, "0")}.png`),
          );
        }
        break;
      case "done":
        bar.stop();
        await encodeFile(event.image, request.out);
        process.stderr.write(
          `wrote ${request.out} (${event.image.width}×${event.image.height}) in ${formatDuration(event.elapsedMs)}, seed ${event.seed}\n`,
        );
        break;
    }
  }
}

async function main(): Promise<void> {
  // Commander prints its own usage errors and exits with code 1.
  const request = parseCliArgs(process.argv.slice(2));
  try {
    await run(request, config);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stylize: ${message}\n`);
    if (!(error instanceof UserError)) log.debug({ err: error }, "stylize failed");
    process.exitCode = 1;
  } finally {
    releaseBackend(); // ends the wasm backend's threads now rather than at exit
  }
}

await main();
