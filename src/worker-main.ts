import { exitWithMessage as fail, loadConfigOrExit } from "./config.js";
import { configuredEnginePool, FleetWorker } from "./jobs/index.js";
import { FLEET_BLOB_TTL_MS } from "./jobs/redis/fleet-runner.js";
import { createLogger } from "./log.js";
import { loggableError } from "./loggable-error.js";

/**
 * `npm run worker`: an engine worker for a fleet. Runs on any host that reaches the bot's Redis
 * (REDIS_URL); takes STYLIZE_CONCURRENCY jobs at once on the GPU STYLIZE_GPU (or the CPU), and on
 * SIGTERM/SIGINT lets running jobs finish within STYLIZE_SHUTDOWN_GRACE_S before handing them back.
 */

const config = loadConfigOrExit();
if (!config.fleet)
  fail("REDIS_URL is not set: a worker takes its jobs from the bot's Redis (see the README).");
const { fleet } = config;
const log = createLogger({ level: config.logLevel }).child({ component: "worker" });

const engine = configuredEnginePool(config, log, {
  env: fleet.gpu === undefined ? undefined : { CUDA_VISIBLE_DEVICES: String(fleet.gpu) },
});
const worker = new FleetWorker({
  redisUrl: fleet.redisUrl,
  prefix: fleet.prefix,
  engine,
  log,
  lockMs: fleet.workerLockMs,
  gpu: fleet.gpu,
  blobTtlMs: FLEET_BLOB_TTL_MS,
});

process.on("unhandledRejection", (reason) =>
  log.error({ err: loggableError(reason) }, "unhandled rejection"),
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "worker shutting down");
    void worker
      .close({ graceMs: config.queue.shutdownGraceMs })
      .catch((error: unknown) => log.error({ err: loggableError(error) }, "unclean worker shutdown"))
      .finally(() => process.exit(0));
  });
}

try {
  const backend = await engine.warmUp();
  log.info({ backend }, "engine ready");
  await worker.start();
} catch (error) {
  log.fatal({ err: loggableError(error) }, "the worker could not start");
  await worker.close().catch(() => undefined);
  fail(`The worker could not start: ${error instanceof Error ? error.message : String(error)}`);
}
