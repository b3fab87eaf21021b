import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { configOrExit, type EngineConfig, loadEngineConfig } from "../config.js";
import { formatDuration } from "../duration.js";
import { type RgbImage, resolveOptions, type StylizeRequest } from "../engine/index.js";
import { isNotFound, plainFsReason } from "../fs-errors.js";
import { decodeImage, encodeFile, ImageInputError } from "../images/index.js";
import { createLogger } from "../log.js";
import { type CliRequest, parseCliArgs } from "./args.js";
import { checkOutputFile, prepareFramesFolder } from "./output-paths.js";
import { PainterProcess } from "./painter-process.js";
import { ProgressBar } from "./progress-bar.js";
import { UserError } from "./user-error.js";

/**
 * `stylize`: paint one photo locally, with a terminal progress bar. This process checks the paths, reads
 * the images and draws the progress; the painting runs in a painter process (./painter.ts), so Ctrl-C
 * is answered at once, whatever the engine is doing. Honours the bot's engine variables (STYLIZE_BACKEND,
 * STYLIZE_THREADS, STYLIZE_WEIGHTS, STYLIZE_MODELS_DIR, LOG_LEVEL); a flag wins over its variable.
 */

const config = configOrExit(() => loadEngineConfig(process.env, process.cwd(), "warn"));
const log = createLogger({ level: config.logLevel });

/** What Ctrl-C (or SIGTERM) has to undo: the painter and the bar, whichever exist yet. */
const running: { painter?: PainterProcess; bar?: ProgressBar } = {};

/**
 * Stop at once: end the painter (even mid-kernel), put the terminal back (bar line ended, cursor shown)
 * and exit with 128 + the signal's number, as shells expect. All synchronous, so nothing can outrun it.
 */
function stopNow(signal: "SIGINT" | "SIGTERM"): never {
  running.painter?.kill();
  running.bar?.stop();
  process.stderr.write(
    `stylize: stopped (${signal === "SIGINT" ? "Ctrl-C" : signal}) before the painting was finished\n`,
  );
  process.exit(signal === "SIGINT" ? 130 : 143);
}

async function readImageFile(file: string, role: string) {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if (isNotFound(error)) throw new UserError(`the ${role} image ${file} does not exist`);
    throw new UserError(`cannot read the ${role} image ${file}: ${plainFsReason(error)}`);
  }
  try {
    return (await decodeImage(bytes)).image;
  } catch (error) {
    if (error instanceof ImageInputError)
      throw new UserError(`the ${role} image "${file}": ${error.message}`);
    throw error;
  }
}

async function buildRequest(request: CliRequest): Promise<StylizeRequest> {
  const content = await readImageFile(request.content, "content");
  const styles = await Promise.all(
    request.styles.map(async (s) => ({ image: await readImageFile(s.path, "style"), weight: s.weight })),
  );
  const stylizeRequest: StylizeRequest = {
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
  };
  resolveOptions(stylizeRequest); // throws on a bad combination now rather than in the painter
  return stylizeRequest;
}

/**
 * Writes the finished painting to `out`. Should that fail after all (the folder removed or the disk filled
 * during the run), the painting goes to the temporary folder instead of being lost, and the error says where.
 */
async function saveResult(image: RgbImage, out: string): Promise<void> {
  try {
    await encodeFile(image, out);
  } catch (error) {
    const rescue = path.join(os.tmpdir(), `stylize-${Date.now()}${path.extname(out)}`);
    await encodeFile(image, rescue);
    throw new UserError(
      `could not write ${out} (${plainFsReason(error)}); the painting was saved to ${rescue} instead`,
    );
  }
}

async function run(request: CliRequest, config: EngineConfig): Promise<void> {
  // Where the painting goes is checked first: a finished painting must never be lost to a bad path.
  await checkOutputFile(request.out);
  if (request.framesDir) await prepareFramesFolder(request.framesDir);
  const stylizeRequest = await buildRequest(request);

  const painter = new PainterProcess({
    request: stylizeRequest,
    weightsLocation: request.weights ? path.resolve(request.weights) : config.weightsLocation,
    weightsOrigin: request.weights ? "given" : config.weightsOrigin,
    backend: request.backend ?? config.backend,
    threads: config.threads,
    logLevel: config.logLevel,
  });
  running.painter = painter;
  const bar = request.quiet ? undefined : new ProgressBar();
  running.bar = bar;
  let frame = 0;
  for await (const message of painter.messages()) {
    if (message.type === "failed") {
      bar?.stop();
      log.debug({ stack: message.stack }, "the painter failed");
      throw new UserError(message.message);
    }
    const { event } = message;
    switch (event.type) {
      case "start": {
        const sizes = event.plan.map((s) => `${s.width}×${s.height}×${s.steps}`).join(" → ");
        process.stderr.write(`backend ${event.backend}, seed ${event.seed}, scales ${sizes}\n`);
        bar?.start(event);
        break;
      }
      case "step":
        bar?.step(event);
        break;
      case "preview":
        if (request.framesDir) {
          frame += 1;
          const name = `frame-${String(frame).padStart(4, "0")}.png`;
          await encodeFile(event.image, path.join(request.framesDir, name));
        }
        break;
      case "done":
        bar?.stop();
        await saveResult(event.image, request.out);
        process.stderr.write(
          `wrote ${request.out} (${event.image.width}×${event.image.height}) in ${formatDuration(event.elapsedMs)}, seed ${event.seed}\n`,
        );
        break;
    }
  }
}

async function main(): Promise<void> {
  process.on("SIGINT", () => stopNow("SIGINT"));
  process.on("SIGTERM", () => stopNow("SIGTERM"));
  // Commander prints its own usage errors and exits with code 1.
  const request = parseCliArgs(process.argv.slice(2));
  try {
    await run(request, config);
  } catch (error) {
    running.bar?.stop();
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stylize: ${message}\n`);
    if (!(error instanceof UserError)) log.debug({ err: error }, "stylize failed");
    process.exitCode = 1;
  }
}

await main();
