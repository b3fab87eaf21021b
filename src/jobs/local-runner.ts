import { EventEmitter } from "node:events";
import sharp from "sharp";
import type { Logger } from "../log.js";
import type { BlobStore, Store } from "../store/index.js";
import { Admission, type Limits, type Reservation } from "./admission.js";
import type { EngineOptions } from "./engine-protocol.js";
import type { EncodedImage, JobEvent } from "./events.js";
import type { JobPlan } from "./expected-steps.js";
import { FairQueue } from "./fair-queue.js";
import { asJobRecord, type JobOwner, type JobRecord, type JobRequest, type StopReason } from "./job.js";
import { endingEvents, PRUNE_EVERY_MS, pruneJobs } from "./job-endings.js";
import { type PictureSize, pictureSize, planJob } from "./job-plan.js";
import { type CostModel, mergeCostModels } from "./job-progress.js";
import {
  type CancelOutcome,
  type Estimate,
  type JobListener,
  type JobRunner,
  JobStopError,
  type PrepareJob,
  type QueueStatus,
} from "./job-runner.js";
import { recordJob } from "./record-job.js";
import { type Engine, runJob, stopOf } from "./run-job.js";
import { estimateWaitMs, ThroughputMeter } from "./throughput.js";

/**
 * The job runner of a single host: jobs are rows in the store and files in the blob store, the fair queue
 * picks which runs next, and engine processes run them. Every state change is written before its event
 * is sent, so a restart (even after kill -9) finds each job where it was: queued jobs run again in their
 * fair order, a job that was running runs once more (a second interruption fails it), and a job that
 * ended without its member being told is told again.
 */

export interface LocalJobRunnerOptions {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly engine: Engine;
  readonly prepare: PrepareJob;
  readonly limits: Limits;
  readonly log: Logger;
  /** Engine options every job gets (a preview cadence; tests shorten runs this way). */
  readonly engineOptions: EngineOptions;
  /** A run longer than this fails as timed out, and its engine process is replaced. */
  readonly jobTimeoutMs: number;
  /** Ended jobs, their photos and results are kept this long (for Re-roll and friends), then deleted. */
  readonly keepJobsMs: number;
  /** How often a waiting job's estimate is refreshed. */
  readonly refreshWaitingMs: number;
  /**
   * Sharded without Redis, each shard runs its own runner on the shared store: a restart takes up only
   * the jobs this one answers for. Default: all.
   */
  readonly owns?: (job: Pick<JobRecord, "guildId">) => boolean;
}

/** A job interrupted this many times while running fails instead of starting again. */
const MAX_ATTEMPTS = 2;

interface Active {
  record: JobRecord;
  readonly reservation: Reservation;
  /** The plan the engine is expected to make for it, for estimates while it waits. */
  readonly plan: JobPlan;
  /** Set while running: the share of work done. */
  fraction?: number;
  /** Pixel-steps the run is expected to take, once the engine announced its plan. */
  work?: number;
  lastWait?: { position: number; startsInMs: number };
}

interface Events {
  event: Parameters<JobListener>;
}

export class LocalJobRunner implements JobRunner {
  readonly #options: LocalJobRunnerOptions;
  readonly #admission: Admission;
  readonly #queue: FairQueue<JobRecord>;
  readonly #meter = new ThroughputMeter();
  readonly #events = new EventEmitter<Events>();
  readonly #active = new Map<string, Active>();
  /** Running jobs the shutdown stopped: they go back to the queue, not to an end state. */
  readonly #interrupted = new Set<string>();
  readonly #timers: NodeJS.Timeout[] = [];
  /** Timelapses being made after their job's result went out; close() waits for them. */
  readonly #background = new Set<Promise<void>>();
  #closing = false;
  /** How much a step costs on this engine, learnt from the last run (progress starts right with it). */
  #costModel: CostModel | undefined;

  constructor(options: LocalJobRunnerOptions) {
    this.#options = options;
    this.#admission = new Admission(options.limits);
    this.#queue = new FairQueue<JobRecord>({
      concurrency: options.engine.size,
      run: (job, signal) => this.#run(job.id, signal),
      onRunError: (job, error) => options.log.error({ err: error, jobId: job.id }, "job runner failed"),
    });
    this.#queue.on("changed", () => this.#refreshWaiting(false));
  }

  async reserve(owner: JobOwner, memberLimit?: number): Promise<Reservation> {
    if (this.#closing) throw new JobStopError("unavailable", "the bot is restarting");
    return this.#admission.reserve(owner, memberLimit);
  }

  release(reservation: Reservation): void {
    this.#admission.release(reservation);
  }

  async submit(reservation: Reservation, request: JobRequest): Promise<JobRecord> {
    if (!this.#admission.isHeld(reservation))
      throw new Error("submit() needs a reservation that is still held");
    try {
      const { record, content, init } = await recordJob(this.#options.store, this.#options.blobs, request);
      this.#options.log.info(
        { jobId: record.id, userId: record.userId, settings: record.settings, parentId: record.parentId },
        "job queued",
      );
      this.#enqueue(record, reservation, this.#plan(record, content, init));
      return record;
    } catch (error) {
      this.#admission.release(reservation);
      throw error;
    }
  }

  async cancel(jobId: string, userId: string): Promise<CancelOutcome> {
    const active = this.#active.get(jobId);
    if (!active) return this.#options.store.jobs.get(jobId) ? "not_active" : "unknown";
    if (active.record.userId !== userId) return "not_owner";
    const where = this.#queue.cancel(jobId);
    if (where === "waiting") await this.#end(active, { state: "cancelled", reason: "cancelled" });
    return where ? "cancelled" : "not_active";
  }

  async estimate(request: Pick<JobRequest, "settings" | "content" | "initImage">): Promise<Estimate> {
    const plan = planJob({
      settings: request.settings,
      content: await pictureSize(request.content),
      init: request.initImage && (await pictureSize(request.initImage)),
      engineOptions: this.#options.engineOptions,
    });
    const own = this.#meter.estimateWork(plan);
    const ahead = this.#queue.waitingOrder().map((job) => this.#workOf(job.id));
    const { startsInMs } = this.#waitFor(own, ahead);
    return { startsInMs, runMs: this.#meter.msFor(own), measured: this.#meter.measured };
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const stored = this.#options.store.jobs.get(jobId);
    return stored && asJobRecord(stored);
  }

  async status(userId: string): Promise<QueueStatus> {
    const running = this.#queue.runningJobs();
    const waiting = this.#queue.waitingOrder();
    const jobs = [
      ...running.map((job) => ({ job, position: 0, fraction: this.#active.get(job.id)?.fraction })),
      ...waiting.map((job, index) => ({ job, position: index + 1 })),
    ].filter((entry) => entry.job.userId === userId);
    return {
      jobs,
      waiting: waiting.length,
      running: running.length,
      engineSlots: this.#options.engine.size,
      megapixelsPerMinute: this.#meter.megapixelsPerMinute(),
    };
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
    const { store } = this.#options;
    for (const stored of store.jobs.unfinished()) {
      const record = asJobRecord(stored);
      if (!this.#owns(record)) continue;
      if (record.state === "running" && record.attempts >= MAX_ATTEMPTS) {
        await this.#fail(record.id, "crashed", "the painting was interrupted twice by a restart of the bot");
        continue;
      }
      if (record.state === "running") await store.enqueue(() => store.jobs.requeue(record.id));
      const content = await this.#options.blobs.get(record.contentBlob).catch(() => undefined);
      if (!content) {
        await this.#fail(record.id, "failed", "its photo could not be read back after a restart");
        continue;
      }
      // A starting picture that cannot be read fails the run itself; the estimate then counts the photo's.
      const init = record.initBlob && (await this.#options.blobs.get(record.initBlob).catch(() => undefined));
      this.#enqueue(
        asJobRecord(store.jobs.get(record.id)!),
        this.#admission.admit(record),
        this.#plan(record, await pictureSize(content), init ? await pictureSize(init) : undefined),
      );
    }
    for (const stored of store.jobs.unreported()) {
      const record = asJobRecord(stored);
      if (!this.#owns(record)) continue;
      for (const event of await endingEvents(record, this.#options.blobs)) this.#emit(record.id, event);
    }
    this.#timers.push(
      setInterval(() => this.#refreshWaiting(true), this.#options.refreshWaitingMs).unref(),
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

  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#queue.pause();
    const graceMs = options.graceMs ?? 0;
    if (graceMs > 0 && this.#queue.runningJobs().length > 0) {
      await Promise.race([
        this.#queue.onRunningDone(),
        new Promise((resolve) => setTimeout(resolve, graceMs)),
      ]);
    }
    for (const job of this.#queue.runningJobs()) this.#interrupted.add(job.id);
    this.#queue.abortRunning(new Error("shutting down"));
    await this.#queue.onRunningDone();
    for (const job of this.#queue.waitingOrder()) this.#emit(job.id, { type: "interrupted" });
    await Promise.all(this.#background);
    await this.#options.engine.close?.();
  }

  #owns(job: Pick<JobRecord, "guildId">): boolean {
    return this.#options.owns?.(job) ?? true;
  }

  #enqueue(record: JobRecord, reservation: Reservation, plan: JobPlan): void {
    this.#active.set(record.id, { record, reservation, plan });
    this.#queue.submit(record);
  }

  /** The plan the engine is expected to make for a job, for its estimates. */
  #plan(record: JobRecord, content: PictureSize, init: PictureSize | undefined): JobPlan {
    return planJob({ settings: record.settings, content, init, engineOptions: this.#options.engineOptions });
  }

  async #run(jobId: string, signal: AbortSignal): Promise<void> {
    const active = this.#active.get(jobId);
    const { store, log } = this.#options;
    if (!active) return;
    // Queued writes: a database locked by another process delays a job's bookkeeping, never loses it.
    if (!(await store.enqueue(() => store.jobs.start(jobId)))) {
      // Ended while it waited for its slot (cancelled, or failed at a restart): nothing to run.
      this.#active.delete(jobId);
      this.#admission.release(active.reservation);
      return;
    }
    active.record = asJobRecord(store.jobs.get(jobId)!);
    const { record } = active;
    const jobLog = log.child({ jobId, userId: record.userId });
    jobLog.info({ attempt: record.attempts }, "job started");
    this.#emit(jobId, {
      type: "started",
      attempt: record.attempts,
      waitedMs: Date.now() - record.createdAt,
      expectedMs: this.#meter.msFor(this.#workOf(jobId)),
      measured: this.#meter.measured,
    });
    try {
      const result = await runJob(record, {
        engine: this.#options.engine,
        blobs: this.#options.blobs,
        prepare: () => this.#options.prepare(record),
        engineOptions: this.#options.engineOptions,
        timeoutMs: this.#options.jobTimeoutMs,
        signal,
        costModel: this.#costModel,
        expectSteps: (plan) => this.#meter.expectedSteps(plan),
        onPlan: (work) => {
          active.work = work;
        },
        emit: (event) => {
          if (event.type === "progress") active.fraction = event.fraction;
          this.#emit(jobId, event);
        },
      });
      if (result.run) this.#meter.recordRun({ ...result.run, elapsedMs: result.elapsedMs });
      this.#costModel = mergeCostModels(this.#costModel, result.costModel);
      await this.#end(
        active,
        { state: "done", resultBlob: result.resultBlob },
        { image: result.image, elapsedMs: result.elapsedMs },
      );
      jobLog.info({ elapsedMs: result.elapsedMs }, "job done");
      // Off the engine slot: the next job need not wait for the animation.
      const timelapse = this.#storeTimelapse(jobId, result.timelapse, jobLog);
      this.#background.add(timelapse);
      void timelapse.finally(() => this.#background.delete(timelapse));
    } catch (error) {
      if (this.#interrupted.delete(jobId)) {
        await store.enqueue(() => store.jobs.requeue(jobId));
        this.#active.delete(jobId);
        this.#admission.release(active.reservation);
        this.#emit(jobId, { type: "interrupted" });
        jobLog.info("job handed back to the queue for the next start");
        return;
      }
      const { reason, detail } = stopOf(error);
      if (reason === "failed") jobLog.error({ err: error }, "job failed");
      else jobLog.info({ reason, detail }, "job stopped");
      await this.#end(active, { state: reason === "cancelled" ? "cancelled" : "failed", reason, detail });
    }
  }

  async #storeTimelapse(jobId: string, timelapse: RunJobTimelapse, log: Logger): Promise<void> {
    try {
      const data = await timelapse.encode();
      if (!data) return;
      const { width = 0, height = 0 } = await sharp(data).metadata();
      const blob = await this.#options.blobs.put(data);
      const { store } = this.#options;
      await store.enqueue(() => store.jobs.setTimelapse(jobId, blob));
      this.#emit(jobId, { type: "timelapse", animation: { data, format: "webp", width, height } });
    } catch (error) {
      log.warn({ err: error }, "timelapse failed");
    }
  }

  /** Records the end, frees the job's place and tells the caller (once the end is written). */
  async #end(
    active: Active,
    ending:
      | { state: "done"; resultBlob: string }
      | { state: "failed" | "cancelled"; reason: StopReason; detail?: string },
    result?: { image: EncodedImage; elapsedMs: number },
  ): Promise<void> {
    const { id } = active.record;
    const { store } = this.#options;
    this.#active.delete(id);
    this.#admission.release(active.reservation);
    if (!(await store.enqueue(() => store.jobs.finish(id, ending)))) return;
    const record = asJobRecord(store.jobs.get(id)!);
    if (ending.state === "done" && result) {
      this.#emit(id, {
        type: "done",
        image: result.image,
        elapsedMs: result.elapsedMs,
        totalMs: Date.now() - record.createdAt,
      });
    } else if (ending.state !== "done") {
      this.#emit(id, { type: "stopped", reason: ending.reason, detail: ending.detail });
    }
  }

  /** Fails a job that will not run (at a restart) and says why. */
  async #fail(jobId: string, reason: StopReason, detail: string): Promise<void> {
    const { store } = this.#options;
    const ending = { state: "failed", reason, detail } as const;
    if (await store.enqueue(() => store.jobs.finish(jobId, ending))) {
      this.#emit(jobId, { type: "stopped", reason, detail });
    }
  }

  /** Sends every waiting job its place and estimate; `periodic` refreshes show a moving estimate too. */
  #refreshWaiting(periodic: boolean): void {
    if (this.#closing) return;
    const ahead: number[] = [];
    this.#queue.waitingOrder().forEach((job, index) => {
      const active = this.#active.get(job.id);
      if (!active) return;
      const own = this.#workOf(job.id);
      const position = index + 1;
      const wait = this.#waitFor(own, ahead);
      ahead.push(own);
      const last = active.lastWait;
      const moved = !last || last.position !== position;
      // A periodic refresh only speaks when the estimate moved noticeably.
      const drifted =
        last && Math.abs(last.startsInMs - wait.startsInMs) > Math.max(1000, 0.1 * last.startsInMs);
      if (!moved && !(periodic && drifted)) return;
      active.lastWait = { position, startsInMs: wait.startsInMs };
      this.#emit(job.id, { type: "waiting", position, ...wait, measured: this.#meter.measured });
    });
  }

  /** When a job of `own` pixel-steps would start and finish behind the running jobs and `ahead`. */
  #waitFor(own: number, ahead: readonly number[]): { startsInMs: number; finishesInMs: number } {
    const runningRemaining = this.#queue.runningJobs().map((job) => {
      const fraction = this.#active.get(job.id)?.fraction ?? 0;
      return this.#workOf(job.id) * (1 - fraction);
    });
    return estimateWaitMs(this.#meter, {
      runningRemaining,
      ahead,
      own,
      concurrency: this.#options.engine.size,
    });
  }

  /** A queued or running job's expected pixel-steps: by the engine's plan once it made one, else by ours. */
  #workOf(jobId: string): number {
    const active = this.#active.get(jobId);
    if (!active) return 0;
    return active.work ?? this.#meter.estimateWork(active.plan);
  }

  #prune(): Promise<void> {
    const { store, blobs, keepJobsMs, log } = this.#options;
    return pruneJobs(store, blobs, keepJobsMs, log);
  }

  #emit(jobId: string, event: JobEvent): void {
    this.#events.emit("event", jobId, event);
  }
}

type RunJobTimelapse = Awaited<ReturnType<typeof runJob>>["timelapse"];
