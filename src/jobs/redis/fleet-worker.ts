import os from "node:os";
import { type Job, WaitingError, Worker } from "bullmq";
import { Redis } from "ioredis";
import sharp from "sharp";
import type { Logger } from "../../log.js";
import { loggableError } from "../../loggable-error.js";
import type { JobEvent } from "../events.js";
import { planJob } from "../job-plan.js";
import { type CostModel, mergeCostModels } from "../job-progress.js";
import { JobStopError } from "../job-runner.js";
import { type Engine, runJob, stopOf } from "../run-job.js";
import { ThroughputMeter } from "../throughput.js";
import { FleetAdmission } from "./fleet-admission.js";
import {
  type FleetJobData,
  type FleetOutcome,
  HEARTBEAT_MS,
  type ImageRef,
  THROUGHPUT_WINDOW_MS,
  type WireEvent,
  WORKER_ALIVE_MS,
  type WorkerBeat,
} from "./fleet-protocol.js";
import { type FleetKeys, fleetKeys, QUEUE_NAME } from "./keys.js";
import { RedisBlobs } from "./redis-blobs.js";

/**
 * `npm run worker`: paints the fleet's jobs on this host. BullMQ hands it one job per engine slot; each
 * runs in the host's supervised engine processes exactly as in the embedded mode. While a job runs, small
 * events (progress, with previews as expiring Redis blobs) go out on a pub/sub channel; its end is the
 * BullMQ job's return value. A cancel arrives on another channel and aborts the run. On shutdown running
 * jobs get a grace period, then go back to the queue untouched. If this process dies instead, BullMQ's
 * stalled-job check (another worker's) hands its jobs to others once; a second death fails them.
 */

export interface FleetWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly engine: Engine;
  readonly log: Logger;
  /** How long a job's lock lasts without renewal: a dead worker's jobs are recovered after about this. */
  readonly lockMs: number;
  /** Shown in /queue and the health line. */
  readonly gpu?: number;
  /** How long results and previews stay in Redis for the bot to fetch. */
  readonly blobTtlMs: number;
}

interface Running {
  readonly controller: AbortController;
  /** Set at shutdown: the job goes back to the queue instead of ending. */
  handBack: boolean;
}

export class FleetWorker {
  readonly id = `${os.hostname()}-${process.pid}`;
  readonly #options: FleetWorkerOptions;
  readonly #keys: FleetKeys;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #blobs: RedisBlobs;
  readonly #admission: FleetAdmission;
  readonly #meter = new ThroughputMeter();
  readonly #running = new Map<string, Running>();
  readonly #background = new Set<Promise<void>>();
  #worker: Worker<FleetJobData, FleetOutcome> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #costModel: CostModel | undefined;
  #done = 0;

  constructor(options: FleetWorkerOptions) {
    this.#options = options;
    this.#keys = fleetKeys(options.prefix);
    this.#redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.#subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    // Connections retry by themselves; what went wrong is logged, not thrown at the process.
    for (const connection of [this.#redis, this.#subscriber])
      connection.on("error", (error) =>
        options.log.warn({ err: loggableError(error) }, "redis connection error"),
      );
    this.#blobs = new RedisBlobs(this.#redis, this.#keys, options.blobTtlMs);
    // Limits are the bot's to check; the worker only releases places and advances the round.
    this.#admission = new FleetAdmission(this.#redis, this.#keys, { perUserLimit: 1, globalCap: 1 });
  }

  get log(): Logger {
    return this.#options.log;
  }

  /** Starts taking jobs. */
  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.#keys.cancel);
    this.#subscriber.on("message", (_channel: string, jobId: string) => this.#cancel(jobId));
    const { lockMs } = this.#options;
    this.#worker = new Worker<FleetJobData, FleetOutcome>(
      QUEUE_NAME,
      (job, token) => this.#process(job, token),
      {
        connection: { url: this.#options.redisUrl, maxRetriesPerRequest: null },
        prefix: this.#options.prefix,
        concurrency: this.#options.engine.size,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        // A job whose worker died runs once more; a second death fails it (BullMQ says "stalled").
        maxStalledCount: 1,
      },
    );
    this.#worker.on("error", (error) =>
      this.log.error({ err: loggableError(error) }, "worker connection error"),
    );
    await this.#beat();
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS).unref();
    this.log.info(
      { worker: this.id, slots: this.#options.engine.size, gpu: this.#options.gpu },
      "worker ready",
    );
  }

  /**
   * Takes no more jobs; running ones get `graceMs` to finish, then go back to the queue (another worker,
   * or this one after a restart, runs them from the start).
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    clearInterval(this.#heartbeat);
    const closing = this.#worker?.close() ?? Promise.resolve();
    const grace = new Promise((resolve) => setTimeout(resolve, options.graceMs ?? 0).unref());
    if (this.#running.size > 0 && (await Promise.race([closing.then(() => "closed"), grace])) !== "closed") {
      for (const running of this.#running.values()) {
        running.handBack = true;
        running.controller.abort(new Error("the worker is shutting down"));
      }
    }
    await closing;
    await Promise.all(this.#background);
    await this.#redis.del(this.#keys.worker(this.id)).catch(() => undefined);
    await this.#options.engine.close?.();
    this.#subscriber.disconnect();
    await this.#redis.quit().catch(() => undefined);
  }

  async #process(job: Job<FleetJobData, FleetOutcome>, token?: string): Promise<FleetOutcome> {
    const jobId = job.id!;
    const { data } = job;
    const jobLog = this.log.child({ jobId, userId: data.userId });
    if (await this.#redis.exists(this.#keys.cancelled(jobId))) {
      await this.#release(data);
      return { state: "cancelled", reason: "cancelled" };
    }
    const running: Running = { controller: new AbortController(), handBack: false };
    this.#running.set(jobId, running);
    let sent = Promise.resolve();
    const emit = (event: JobEvent) => {
      sent = sent
        .then(() => this.#publish(jobId, event))
        .catch((error: unknown) => {
          jobLog.warn({ err: loggableError(error) }, "could not publish a job event");
        });
    };
    try {
      await this.#admission.served(data.round);
      const attempt = 1 + job.stalledCounter;
      jobLog.info({ attempt, worker: this.id }, "job started");
      // A job queued by an older bot has no plan: its photo's shape is unknown, so it counts as square.
      const side = data.settings.size;
      const plan =
        data.plan ??
        planJob({
          settings: data.settings,
          content: { width: side, height: side },
          engineOptions: data.options,
        });
      const own = this.#meter.estimateWork(plan);
      emit({
        type: "started",
        attempt,
        waitedMs: Date.now() - job.timestamp,
        expectedMs: this.#meter.msFor(own),
        measured: this.#meter.measured,
      });
      const result = await runJob(
        {
          id: jobId,
          settings: data.settings,
          contentBlob: data.content,
          styleBlob: undefined,
          initBlob: data.init,
        },
        {
          engine: this.#options.engine,
          blobs: this.#blobs,
          prepare: async () => ({
            styles: await Promise.all(
              data.styles.map(async (s) => ({ image: await this.#blobs.get(s.blob), weight: s.weight })),
            ),
          }),
          engineOptions: data.options,
          timeoutMs: data.timeoutMs,
          signal: running.controller.signal,
          costModel: this.#costModel,
          expectSteps: (plan) => this.#meter.expectedSteps(plan),
          emit,
        },
      );
      await sent;
      if (result.run) this.#meter.recordRun({ ...result.run, elapsedMs: result.elapsedMs });
      this.#costModel = mergeCostModels(this.#costModel, result.costModel);
      this.#done++;
      jobLog.info({ elapsedMs: result.elapsedMs, worker: this.id }, "job done");
      const timelapse = this.#publishTimelapse(jobId, result.timelapse, jobLog);
      this.#background.add(timelapse);
      void timelapse.finally(() => this.#background.delete(timelapse));
      await this.#release(data);
      await this.#redis
        .multi()
        .zadd(this.#keys.finished, Date.now(), jobId)
        .zremrangebyscore(this.#keys.finished, "-inf", Date.now() - THROUGHPUT_WINDOW_MS)
        .exec();
      const { data: _bytes, ...image } = result.image;
      return {
        state: "done",
        result: { ...image, blob: result.resultBlob },
        elapsedMs: result.elapsedMs,
        outputPixels: data.outputPixels,
        run: result.run,
        worker: this.id,
      };
    } catch (error) {
      await sent;
      if (running.handBack && token) {
        jobLog.info("job handed back to the queue at shutdown");
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const { reason, detail } = stopOf(error);
      if (reason === "failed") jobLog.error({ err: loggableError(error) }, "job failed");
      else jobLog.info({ reason, detail }, "job stopped");
      await this.#release(data);
      return reason === "cancelled" ? { state: "cancelled", reason } : { state: "failed", reason, detail };
    } finally {
      this.#running.delete(jobId);
    }
  }

  #cancel(jobId: string): void {
    this.#running.get(jobId)?.controller.abort(new JobStopError("cancelled", "cancelled"));
  }

  #release(data: FleetJobData): Promise<void> {
    return this.#admission.release({ id: data.reservationId, owner: { userId: data.userId } });
  }

  /** Sends one event; a preview goes as a blob that the next preview of the job overwrites. */
  async #publish(jobId: string, event: JobEvent): Promise<void> {
    let wire: WireEvent;
    if (event.type === "progress" && event.preview) {
      const { data, ...image } = event.preview;
      const blob = await this.#blobs.put(data, `preview-${jobId}`);
      wire = { ...event, preview: { ...image, blob } };
    } else if (event.type === "progress") {
      const { preview: _none, ...rest } = event;
      wire = rest;
    } else if (event.type === "started" || event.type === "finishing") {
      wire = event;
    } else return;
    await this.#redis.publish(this.#keys.events, JSON.stringify({ jobId, event: wire }));
  }

  async #publishTimelapse(
    jobId: string,
    timelapse: Awaited<ReturnType<typeof runJob>>["timelapse"],
    log: Logger,
  ): Promise<void> {
    try {
      const data = await timelapse.encode();
      if (!data) return;
      const { width = 0, height = 0 } = await sharp(data).metadata();
      const animation: ImageRef = { blob: await this.#blobs.put(data), format: "webp", width, height };
      const event: WireEvent = { type: "timelapse", animation };
      await this.#redis.publish(this.#keys.events, JSON.stringify({ jobId, event }));
    } catch (error) {
      log.warn({ err: loggableError(error) }, "timelapse failed");
    }
  }

  async #beat(): Promise<void> {
    const beat: WorkerBeat = {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      slots: this.#options.engine.size,
      busy: this.#running.size,
      gpu: this.#options.gpu,
      done: this.#done,
    };
    await this.#redis
      .set(this.#keys.worker(this.id), JSON.stringify(beat), "PX", WORKER_ALIVE_MS)
      .catch((error: unknown) => this.log.warn({ err: loggableError(error) }, "heartbeat failed"));
  }
}
