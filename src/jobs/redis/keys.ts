/**
 * Every Redis key and channel of the fleet, under one prefix (STYLIZE_REDIS_PREFIX), so several bots or
 * test runs share a Redis without meeting. BullMQ keeps its own keys under `<prefix>:paint:*`.
 */

/** The BullMQ queue of paintings. */
export const QUEUE_NAME = "paint";

export interface FleetKeys {
  readonly prefix: string;
  /** Reservations held over all members (a sorted set scored by expiry time). */
  readonly held: string;
  /** One member's reservations (same shape). */
  heldBy(userId: string): string;
  /** Counter for reservation ids. */
  readonly reservationSeq: string;
  /** The round being served: the highest round of any job a worker started. */
  readonly servedRound: string;
  /** Per member: the round of their latest queued job (a hash). */
  readonly memberRounds: string;
  /** Files a job's run reads or writes: photos, paintings, previews, results, timelapses. */
  blob(id: string): string;
  /** Set when a member cancelled the job; a worker checks it before running and while it runs. */
  cancelled(jobId: string): string;
  /** A live worker's heartbeat (expires when the worker stops beating). */
  worker(id: string): string;
  readonly workerPattern: string;
  /** Finished jobs' end times (a sorted set), for jobs per minute. */
  readonly finished: string;
  /** Pub/sub: small job events from workers. */
  readonly events: string;
  /** Pub/sub: job ids to cancel while running. */
  readonly cancel: string;
}

export function fleetKeys(prefix: string): FleetKeys {
  const k = (...parts: string[]) => [prefix, "fleet", ...parts].join(":");
  return {
    prefix,
    held: k("held"),
    heldBy: (userId) => k("held", "member", userId),
    reservationSeq: k("reservation-seq"),
    servedRound: k("served-round"),
    memberRounds: k("member-rounds"),
    blob: (id) => k("blob", id),
    cancelled: (jobId) => k("cancelled", jobId),
    worker: (id) => k("worker", id),
    workerPattern: k("worker", "*"),
    finished: k("finished"),
    events: k("events"),
    cancel: k("cancel"),
  };
}
