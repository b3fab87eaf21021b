import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { THROUGHPUT_WINDOW_MS, type WorkerBeat } from "./fleet-protocol.js";
import type { FleetKeys } from "./keys.js";

/** What `/queue`, the health log line and `npm run fleet:status` show of a fleet. */
export interface FleetHealth {
  /** Workers whose heartbeat is fresh. */
  readonly workers: number;
  /** Their engine slots, and how many are painting. */
  readonly slots: number;
  readonly busy: number;
  readonly waiting: number;
  readonly running: number;
  /** Jobs finished per minute over the last ten minutes. */
  readonly jobsPerMinute: number;
  readonly hosts: readonly WorkerBeat[];
}

export async function fleetHealth(redis: Redis, queue: Queue, keys: FleetKeys): Promise<FleetHealth> {
  const names: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", keys.workerPattern, "COUNT", 200);
    cursor = next;
    names.push(...batch);
  } while (cursor !== "0");
  const beats = names.length > 0 ? await redis.mget(names) : [];
  const hosts = beats.flatMap((beat) => (beat ? [JSON.parse(beat) as WorkerBeat] : []));
  const now = Date.now();
  const [counts, finished] = await Promise.all([
    queue.getJobCounts("waiting", "prioritized", "delayed", "active"),
    redis.zcount(keys.finished, now - THROUGHPUT_WINDOW_MS, now),
  ]);
  return {
    workers: hosts.length,
    slots: hosts.reduce((sum, host) => sum + host.slots, 0),
    busy: hosts.reduce((sum, host) => sum + host.busy, 0),
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    running: counts.active ?? 0,
    jobsPerMinute: finished / (THROUGHPUT_WINDOW_MS / 60_000),
    hosts,
  };
}
