import { EventEmitter } from "node:events";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "../../log.js";
import { loggableError } from "../../loggable-error.js";
import type { BlobStore, Store } from "../../store/index.js";
import type { Limits, Reservation } from "../admission.js";
import type { EngineOptions } from "../engine-protocol.js";
import type { EncodedImage, JobEvent } from "../events.js";
import { asJobRecord, type JobOwner, type JobRecord, type JobRequest, type StopReason } from "../job.js";
import { endingEvents, PRUNE_EVERY_MS, pruneJobs } from "../job-endings.js";
import { pictureSize, planJob } from "../job-plan.js";
import {
  type CancelOutcome,
  type Estimate,
  type JobListener,
  type JobRunner,
  JobStopError,
  type PrepareJob,
  type QueueStatus,
} from "../job-runner.js";
import { recordJob } from "../record-job.js";
import { outputPixels, stopOf } from "../run-job.js";
import { estimateWaitMs, ThroughputMeter } from "../throughput.js";
import { FleetAdmission } from "./fleet-admission.js";
import { type FleetHealth, fleetHealth } from "./fleet-health.js";
import {
  type FleetJobData,
  type FleetOutcome,
  type ImageRef,
  STALLED_REASON,
  type WireMessage,
} from "./fleet-protocol.js";
import { type FleetKeys, fleetKeys, QUEUE_NAME } from "./keys.js";
import { RedisBlobs } from "./redis-blobs.js";

/**
 * The job runner of a fleet: jobs go to BullMQ on Redis and `npm run worker` hosts paint them. The bot
 * keeps what it keeps in the embedded mode (job rows in its store, photos and results as its own files)
 * and hands workers copies through Redis. Limits and the fair order live in Redis (fleet-admission.ts),
 * so every bot process shares them.
 *
 * Several bot processes (shards) may run this at once: each owns the jobs whose replies it makes
 * (`owns`), follows only their events and records only their ends. How a job ended is read from BullMQ
 * itself, not from a message, so a process that was down when its job ended records it when it is back.
 */

export interface FleetJobRunnerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly prepare: PrepareJob;
  readonly limits: Limits;
  readonly log: Logger;
  readonly engineOptions: EngineOptions;
  readonly jobTimeoutMs: number;
  readonly keepJobsMs: number;
  readonly refreshWaitingMs: number;
  /** Whether this process answers for a job (a shard: the job's server is one of its own). Default: all. */
  readonly owns?: (job: Pick<JobRecord, "guildId">) => boolean;
}

/** Photos, paintings and results wait this long in Redis for a worker or the bot. */
export const FLEET_BLOB_TTL_MS = 24 * 60 * 60 * 1000;
const HEALTH_EVERY_MS = 60_000;
const WAITING_STATES = new Set(["waiting", "prioritized", "delayed"]);

interface Owned {
  record: JobRecord;
  /** Its estimated pixel-steps, for waiting estimates. */
  readonly work: number;
  fraction?: number;
  lastPosition?: number;
  /** A timelapse that arrived before the job's end was recorded. */
  timelapse?: ImageRef;
}

interface Events {
  event: Parameters<JobListener>;
}

export class FleetJobRunner implements JobRunner {
  readonly #options: FleetJobRunnerOptions;
  readonly #keys: FleetKeys;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #queue: Queue<FleetJobData, FleetOutcome>;
  #queueEvents: QueueEvents | undefined;
  readonly #shared: RedisBlobs;
  readonly #admission: FleetAdmission;
  readonly #meter = new ThroughputMeter();
  readonly #events = new EventEmitter<Events>();
  /** This process's unfinished jobs (and ended ones a late timelapse may still follow). */
  readonly #owned = new Map<string, Owned>();
  /** Per job: its events in order (each may wait on Redis or the store). */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #timers: NodeJS.Timeout[] = [];
  #closing = false;

  constructor(options: FleetJobRunnerOptions) {
    this.#options = options;
    this.#keys = fleetKeys(options.prefix);
    this.#redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.#subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    // Connections retry by themselves; what went wrong is logged, not thrown at the process.
    for (const connection of [this.#redis, this.#subscriber])
      connection.on("error", (error) =>
        options.log.warn({ err: loggableError(error) }, "redis connection error"),
      );
    this.#queue = new Queue<FleetJobData, FleetOutcome>(QUEUE_NAME, {
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      prefix: options.prefix,
    });
    this.#queue.on("error", (error) => options.log.error({ err: loggableError(error) }, "queue error"));
    this.#shared = new RedisBlobs(this.#redis, this.#keys, FLEET_BLOB_TTL_MS);
    this.#admission = new FleetAdmission(this.#redis, this.#keys, options.limits);
  }

  async reserve(owner: JobOwner, memberLimit?: number): Promise<Reservation> {
    if (this.#closing) throw new JobStopError("unavailable", "the bot is restarting");
    return this.#admission.reserve(owner, memberLimit);
  }

  release(reservation: Reservation): void {
    void this.#admission
      .release(reservation)
      .catch((error: unknown) => this.#options.log.warn({ err: loggableError(error) }, "release failed"));
  }

  async submit(reservation: Reservation, request: JobRequest): Promise<JobRecord> {
    const { store, blobs, log } = this.#options;
    let record: JobRecord | undefined;
    try {
      const recorded = await recordJob(store, blobs, request);
      record = recorded.record;
      const { settings } = record;
      const pixels = outputPixels(recorded.content.width, recorded.content.height, settings.size);
      const plan = planJob({
        settings,
        content: recorded.content,
        init: recorded.init,
        engineOptions: this.#options.engineOptions,
      });
      this.#owned.set(record.id, { record, work: this.#meter.estimateWork(plan) });
      const prepared = request.styleImage
        ? { styles: [{ image: request.styleImage, weight: 1 }] }
        : await this.#options.prepare(record);
      const jobId = record.id;
      const [content, ...styles] = await Promise.all([
        this.#shared.put(request.content, `photo-${jobId}`),
        ...prepared.styles.map((s, i) => this.#shared.put(s.image, `style-${jobId}-${i}`)),
      ]);
      const init = request.initImage && (await this.#shared.put(request.initImage, `init-${jobId}`));
      const round = await this.#admission.nextRound(request.userId);
      await this.#admission.hold(reservation, Date.now() + FLEET_BLOB_TTL_MS);
      const keepSeconds = Math.round(FLEET_BLOB_TTL_MS / 1000);
      await this.#queue.add(
        "paint",
        {
          userId: request.userId,
          reservationId: reservation.id,
          settings: request.settings,
          content: content!,
          styles: styles.map((blob, i) => ({ blob, weight: prepared.styles[i]!.weight })),
          init,
          options: { ...this.#options.engineOptions, ...prepared.options },
          timeoutMs: this.#options.jobTimeoutMs,
          outputPixels: pixels,
          plan,
          round,
        },
        {
          jobId,
          priority: round,
          removeOnComplete: { age: keepSeconds },
          removeOnFail: { age: keepSeconds },
        },
      );
      log.info({ jobId, userId: record.userId, settings: record.settings, round }, "job queued");
      setImmediate(() => void this.#refreshWaiting());
      return record;
    } catch (error) {
      this.release(reservation);
      if (!record) throw error;
      // The row exists, so the member hears how it ended, like any other job.
      const { reason, detail } = stopOf(error);
      if (reason === "failed")
        log.error({ err: loggableError(error), jobId: record.id }, "could not queue a job");
      const ending = { state: "failed", reason, detail: detail ?? "it could not be queued" } as const;
      const id = record.id;
      setImmediate(() => void this.#end(id, ending));
      return record;
    }
  }

  async cancel(jobId: string, userId: string): Promise<CancelOutcome> {
    const stored = this.#options.store.jobs.get(jobId);
    if (!stored) return "unknown";
    if (stored.userId !== userId) return "not_owner";
    if (stored.state !== "queued" && stored.state !== "running") return "not_active";
    const job = await this.#queue.getJob(jobId);
    const state = job ? await job.getState() : "unknown";
    if (state === "completed" || state === "failed") return "not_active";
    // The mark stops a worker that takes the job a moment from now; the message stops one painting it.
    await this.#redis.set(this.#keys.cancelled(jobId), "1", "PX", FLEET_BLOB_TTL_MS);
    if (job && WAITING_STATES.has(state)) {
      const removed = await job.remove().then(
        () => true,
        () => false, // taken by a worker meanwhile: the message below stops it
      );
      // No worker will see it: its place is freed here.
      if (removed)
        await this.#admission.release({ id: job.data.reservationId, owner: { userId: job.data.userId } });
    }
    await this.#redis.publish(this.#keys.cancel, jobId);
    return "cancelled";
  }

  async estimate(request: Pick<JobRequest, "settings" | "content" | "initImage">): Promise<Estimate> {
    const plan = planJob({
      settings: request.settings,
      content: await pictureSize(request.content),
      init: request.initImage && (await pictureSize(request.initImage)),
      engineOptions: this.#options.engineOptions,
    });
    const own = this.#meter.estimateWork(plan);
    const health = await this.health();
    // Other processes' jobs are not measured here: each is counted as one like this one.
    const { startsInMs } = estimateWaitMs(this.#meter, {
      runningRemaining: Array.from({ length: health.running }, () => own / 2),
      ahead: Array.from({ length: health.waiting }, () => own),
      own,
      concurrency: health.slots,
    });
    return { startsInMs, runMs: this.#meter.msFor(own), measured: this.#meter.measured };
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const stored = this.#options.store.jobs.get(jobId);
    return stored && asJobRecord(stored);
  }

  async status(userId: string): Promise<QueueStatus> {
    const [order, health] = await Promise.all([this.#waitingOrder(), this.health()]);
    const jobs = this.#options.store.jobs
      .unfinished()
      .map(asJobRecord)
      .filter((job) => job.userId === userId)
      .map((job) => {
        if (job.state === "running") return { job, position: 0, fraction: this.#owned.get(job.id)?.fraction };
        const index = order.indexOf(job.id);
        return { job, position: index < 0 ? order.length + 1 : index + 1 };
      })
      .sort((a, b) => a.position - b.position);
    return {
      jobs,
      waiting: health.waiting,
      running: health.running,
      engineSlots: health.slots,
      megapixelsPerMinute: this.#meter.megapixelsPerMinute(),
      fleet: { workers: health.workers, jobsPerMinute: health.jobsPerMinute },
    };
  }

  /** Workers alive, their slots, jobs waiting and running, and jobs finished per minute lately. */
  health(): Promise<FleetHealth> {
    return fleetHealth(this.#redis, this.#queue, this.#keys);
  }

  onEvent(listener: JobListener): () => void {
    this.#events.on("event", listener);
    return () => this.#events.off("event", listener);
  }

  async pending(): Promise<JobRecord[]> {
    const { jobs } = this.#options.store;
    return [...jobs.unfinished(), ...jobs.unreported()].map(asJobRecord).filter((job) => this.#owns(job));
  }

  async start(): Promise<void> {
    const { store, log } = this.#options;
    await this.#subscriber.subscribe(this.#keys.events);
    this.#subscriber.on("message", (_channel: string, message: string) => this.#onWire(message));
    this.#queueEvents = new QueueEvents(QUEUE_NAME, {
      connection: { url: this.#options.redisUrl, maxRetriesPerRequest: null },
      prefix: this.#options.prefix,
    });
    this.#queueEvents.on("error", (error) => log.error({ err: loggableError(error) }, "queue events error"));
    for (const name of ["completed", "failed", "removed"] as const) {
      this.#queueEvents.on(name, ({ jobId }: { jobId: string }) => {
        if (this.#owned.has(jobId)) this.#inOrder(jobId, () => this.#settle(jobId));
      });
    }
    await this.#queueEvents.waitUntilReady();
    // Jobs that went on (or ended) on the workers while this process was down.
    for (const stored of store.jobs.unfinished()) {
      const record = asJobRecord(stored);
      if (!this.#owns(record)) continue;
      // Only waiting estimates use it: the photo's shape is not read back for them (counted as square).
      const side = record.settings.size;
      const plan = planJob({
        settings: record.settings,
        content: { width: side, height: side },
        engineOptions: this.#options.engineOptions,
      });
      this.#owned.set(record.id, { record, work: this.#meter.estimateWork(plan) });
      this.#inOrder(record.id, () => this.#settle(record.id));
    }
    for (const stored of store.jobs.unreported()) {
      const record = asJobRecord(stored);
      if (!this.#owns(record)) continue;
      for (const event of await endingEvents(record, this.#options.blobs)) this.#emit(record.id, event);
    }
    void this.#refreshWaiting();
    this.#timers.push(
      setInterval(() => void this.#refreshWaiting(), this.#options.refreshWaitingMs).unref(),
      setInterval(() => void this.#logHealth(), HEALTH_EVERY_MS).unref(),
      setInterval(() => void this.#prune(), PRUNE_EVERY_MS).unref(),
    );
    void this.#prune();
  }

  async markReported(jobId: string): Promise<void> {
    const { store } = this.#options;
    await store.enqueue(() => store.jobs.markReported(jobId));
  }

  blob(id: string): Promise<Buffer> {
    return this.#options.blobs.get(id);
  }

  /** Jobs are the workers': they go on painting while this process is away, and it catches up at start. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const timer of this.#timers) clearInterval(timer);
    await Promise.allSettled(this.#chains.values());
    await this.#queueEvents?.close();
    await this.#queue.close();
    this.#subscriber.disconnect();
    await this.#redis.quit().catch(() => undefined);
  }

  #owns(job: Pick<JobRecord, "guildId">): boolean {
    return this.#options.owns?.(job) ?? true;
  }

  #inOrder(jobId: string, step: () => Promise<void>): void {
    const next = (this.#chains.get(jobId) ?? Promise.resolve())
      .then(step)
      .catch((error: unknown) =>
        this.#options.log.error({ err: loggableError(error), jobId }, "could not follow a job"),
      );
    this.#chains.set(jobId, next);
    void next.finally(() => {
      if (this.#chains.get(jobId) === next) this.#chains.delete(jobId);
    });
  }

  #onWire(raw: string): void {
    let message: WireMessage;
    try {
      message = JSON.parse(raw) as WireMessage;
    } catch {
      return;
    }
    const owned = this.#owned.get(message.jobId);
    if (!owned || this.#closing) return;
    this.#inOrder(message.jobId, () => this.#follow(owned, message));
  }

  /** A running job's event from its worker, as the job's listeners expect it. */
  async #follow(owned: Owned, { jobId, event }: WireMessage): Promise<void> {
    const { store } = this.#options;
    switch (event.type) {
      case "started": {
        // A second attempt (its first worker died) starts a row that is still marked running.
        await store.enqueue(() => {
          store.jobs.requeue(jobId);
          return store.jobs.start(jobId);
        });
        owned.record = asJobRecord(store.jobs.get(jobId)!);
        owned.fraction = 0;
        this.#emit(jobId, event);
        return;
      }
      case "progress": {
        owned.fraction = event.fraction;
        const preview = event.preview && (await this.#fetch(event.preview));
        this.#emit(jobId, { ...event, preview: preview || undefined });
        return;
      }
      case "finishing":
        this.#emit(jobId, event);
        return;
      case "timelapse":
        owned.timelapse = event.animation;
        if (owned.record.state === "done") await this.#keepTimelapse(owned);
        return;
    }
  }

  /** Records how a job ended on the fleet, if it did: from its BullMQ job, or its absence. */
  async #settle(jobId: string): Promise<void> {
    const job = await this.#queue.getJob(jobId);
    if (!job) {
      const cancelled = await this.#redis.exists(this.#keys.cancelled(jobId));
      if (cancelled) await this.#end(jobId, { state: "cancelled", reason: "cancelled" });
      else
        await this.#end(jobId, { state: "failed", reason: "failed", detail: "it was lost from the queue" });
      return;
    }
    const state = await job.getState();
    if (state === "failed") {
      const crashed = STALLED_REASON.test(job.failedReason ?? "");
      await this.#end(
        jobId,
        crashed
          ? {
              state: "failed",
              reason: "crashed",
              detail: "the painting stopped twice because its worker went away",
            }
          : { state: "failed", reason: "failed" },
      );
      return;
    }
    if (state !== "completed") return;
    const outcome = job.returnvalue;
    if (outcome.state !== "done") {
      await this.#end(jobId, { state: outcome.state, reason: outcome.reason, detail: outcome.detail });
      return;
    }
    const image = await this.#fetch(outcome.result);
    if (!image) {
      await this.#end(jobId, {
        state: "failed",
        reason: "failed",
        detail: "its result expired before it was fetched",
      });
      return;
    }
    if (outcome.run) this.#meter.recordRun({ ...outcome.run, elapsedMs: outcome.elapsedMs });
    const resultBlob = await this.#options.blobs.put(image.data);
    await this.#end(jobId, { state: "done", resultBlob }, { image, elapsedMs: outcome.elapsedMs });
    this.#options.log.info({ jobId, worker: outcome.worker, elapsedMs: outcome.elapsedMs }, "job done");
  }

  /** Writes the end, frees the place (idempotent: the worker may have) and tells the listeners. */
  async #end(
    jobId: string,
    ending:
      | { state: "done"; resultBlob: string }
      | { state: "failed" | "cancelled"; reason: StopReason; detail?: string },
    result?: { image: EncodedImage; elapsedMs: number },
  ): Promise<void> {
    const { store } = this.#options;
    const owned = this.#owned.get(jobId);
    const job = await this.#queue.getJob(jobId).catch(() => undefined);
    if (job) this.release({ id: job.data.reservationId, owner: { userId: job.data.userId } });
    if (!(await store.enqueue(() => store.jobs.finish(jobId, ending)))) return;
    const record = asJobRecord(store.jobs.get(jobId)!);
    if (ending.state === "done" && result) {
      this.#emit(jobId, {
        type: "done",
        image: result.image,
        elapsedMs: result.elapsedMs,
        totalMs: Date.now() - record.createdAt,
      });
      if (owned) {
        owned.record = record;
        await this.#keepTimelapse(owned);
        // A timelapse may still come; the entry goes when it does, or with the next prune.
        setTimeout(() => this.#owned.delete(jobId), 5 * 60_000).unref();
      }
      return;
    }
    this.#owned.delete(jobId);
    if (ending.state !== "done")
      this.#emit(jobId, { type: "stopped", reason: ending.reason, detail: ending.detail });
  }

  async #keepTimelapse(owned: Owned): Promise<void> {
    const ref = owned.timelapse;
    if (!ref) return;
    owned.timelapse = undefined;
    const animation = await this.#fetch(ref);
    if (!animation) return;
    const { store, blobs } = this.#options;
    const blob = await blobs.put(animation.data);
    await store.enqueue(() => store.jobs.setTimelapse(owned.record.id, blob));
    this.#emit(owned.record.id, { type: "timelapse", animation });
    this.#owned.delete(owned.record.id);
  }

  async #fetch(ref: ImageRef): Promise<EncodedImage | undefined> {
    const data = await this.#shared.get(ref.blob).catch(() => undefined);
    return data && { data, format: ref.format, width: ref.width, height: ref.height };
  }

  /** Waiting job ids in the order workers will take them. */
  async #waitingOrder(): Promise<string[]> {
    const [waiting, prioritized] = await Promise.all([
      this.#queue.getWaiting(0, 999),
      this.#queue.getPrioritized(0, 999),
    ]);
    return [...waiting, ...prioritized].map((job) => job.id!);
  }

  /** Tells this process's waiting jobs their place when it changed. */
  async #refreshWaiting(): Promise<void> {
    if (this.#closing) return;
    try {
      const [order, health] = await Promise.all([this.#waitingOrder(), this.health()]);
      order.forEach((jobId, index) => {
        const owned = this.#owned.get(jobId);
        if (!owned || owned.lastPosition === index + 1) return;
        owned.lastPosition = index + 1;
        // Jobs of other processes are not measured here: each ahead is counted as one like this one.
        const ahead = Array.from({ length: index }, () => owned.work);
        const wait = estimateWaitMs(this.#meter, {
          runningRemaining: Array.from({ length: health.running }, () => owned.work / 2),
          ahead,
          own: owned.work,
          concurrency: health.slots,
        });
        this.#emit(jobId, { type: "waiting", position: index + 1, ...wait, measured: this.#meter.measured });
      });
    } catch (error) {
      this.#options.log.warn({ err: loggableError(error) }, "could not read the queue's order");
    }
  }

  async #logHealth(): Promise<void> {
    try {
      this.#options.log.info(await this.health(), "fleet health");
    } catch (error) {
      this.#options.log.warn({ err: loggableError(error) }, "could not read the fleet's health");
    }
  }

  #prune(): Promise<void> {
    const { store, blobs, keepJobsMs, log } = this.#options;
    return pruneJobs(store, blobs, keepJobsMs, log);
  }

  #emit(jobId: string, event: JobEvent): void {
    this.#events.emit("event", jobId, event);
  }
}
