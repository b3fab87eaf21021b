/**
 * The job layer's one door: a Discord-free runner that takes jobs, queues them fairly, runs them in
 * supervised engine processes and reports typed events. See job-runner.ts for the interface.
 */
export { JobRefusedError, type Limits, type RefusalCode, type Reservation } from "./admission.js";
export { configuredEnginePool, DEFAULT_ENGINE_SCRIPT, EnginePool } from "./engine-pool.js";
export type { EngineHostConfig, EngineOptions } from "./engine-protocol.js";
export type { EncodedImage, JobEvent } from "./events.js";
export * from "./job.js";
export {
  type CancelOutcome,
  type Estimate,
  type JobListener,
  type JobRunner,
  JobStopError,
  type PreparedJob,
  type PrepareJob,
  type QueueStatus,
} from "./job-runner.js";
export { createJobRunner } from "./job-runner-factory.js";
export { LocalJobRunner, type LocalJobRunnerOptions } from "./local-runner.js";
export { type FleetHealth, fleetHealth } from "./redis/fleet-health.js";
export { FleetJobRunner } from "./redis/fleet-runner.js";
export { FleetWorker } from "./redis/fleet-worker.js";
export type { Engine } from "./run-job.js";
