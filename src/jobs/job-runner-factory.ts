import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { BlobStore, Store } from "../store/index.js";
import type { EngineOptions } from "./engine-protocol.js";
import type { JobRecord } from "./job.js";
import type { JobRunner, PrepareJob } from "./job-runner.js";
import { LocalJobRunner } from "./local-runner.js";
import { FleetJobRunner } from "./redis/fleet-runner.js";
import type { Engine } from "./run-job.js";

/**
 * Picks the job runner from the configuration: the embedded one (engine processes on this host, the
 * default) or, with REDIS_URL set, the fleet's (BullMQ on Redis; `npm run worker` hosts paint).
 */

export interface RunnerParts {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly prepare: PrepareJob;
  readonly log: Logger;
  readonly engineOptions: EngineOptions;
  /** Made only in the embedded mode: a fleet's bot runs no engine. */
  readonly engine: () => Engine;
  /** In a shard: whether a job's reply is this process's to make. */
  readonly owns?: (job: Pick<JobRecord, "guildId">) => boolean;
}

export function createJobRunner(config: Config, parts: RunnerParts): { jobs: JobRunner; engine?: Engine } {
  const common = {
    store: parts.store,
    blobs: parts.blobs,
    prepare: parts.prepare,
    limits: { perUserLimit: config.queue.perUserLimit, globalCap: config.queue.globalCap },
    log: parts.log,
    engineOptions: parts.engineOptions,
    jobTimeoutMs: config.queue.jobTimeoutMs,
    keepJobsMs: config.keepJobsDays * 24 * 60 * 60 * 1000,
    refreshWaitingMs: Math.max(2 * config.progressIntervalMs, 1000),
    owns: parts.owns,
  };
  if (config.fleet) {
    const { redisUrl, prefix } = config.fleet;
    return { jobs: new FleetJobRunner({ ...common, redisUrl, prefix }) };
  }
  const engine = parts.engine();
  return { jobs: new LocalJobRunner({ ...common, engine }), engine };
}
