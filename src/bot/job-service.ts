import type { RgbImage, ScalePlan, StylizeEvent, StylizeOptions } from "../engine/index.js";
import {
  encodeAnimation,
  encodeImage,
  encodeToFit,
  fitWithin,
  resizeImage,
  scaleToLongEdge,
} from "../images/index.js";
import type { Logger } from "../log.js";
import {
  type DoneEvent,
  EngineCrashedError,
  EngineUnavailableError,
  JobCancelledError,
  type RunHandlers,
} from "../queue/engine-pool.js";
import type { EngineRequest } from "../queue/engine-protocol.js";
import { FairQueue } from "../queue/fair-queue.js";
import { estimateWaitMs, planPixelSteps, ThroughputMeter } from "../queue/throughput.js";
import type { Job } from "./job.js";
import type { JobArchive } from "./job-archive.js";
import type { JobMessage } from "./job-message.js";
import { loggableError } from "./loggable-error.js";
import { type Preset, type PresetCatalog, PresetUnavailableError } from "./presets.js";
import { ThrottledEditor } from "./throttled-editor.js";
import {
  doneView,
  type FinishedResult,
  type ProgressState,
  type ReplyPayload,
  runningView,
  startingView,
  stoppedView,
  waitingView,
} from "./views.js";

/**
 * Runs members' jobs: queues them fairly, runs them on the engine workers, and keeps each job's reply up
 * to date (queue position and ETA, then progress and preview frames, then the result and its timelapse).
 */

export interface Engine {
  run(jobId: string, request: EngineRequest, handlers: RunHandlers): Promise<DoneEvent>;
}

export interface JobServiceOptions {
  readonly engine: Engine;
  readonly presets: PresetCatalog;
  readonly log: Logger;
  readonly concurrency: number;
  readonly perUserLimit: number;
  readonly globalCap: number;
  /** Minimum time between two edits of one reply. */
  readonly progressIntervalMs: number;
  /** Engine options every job gets (tests shorten the schedule this way). */
  readonly engineOverrides?: Partial<StylizeOptions>;
  /** Keeps jobs on disk so their buttons survive a restart. */
  readonly archive?: JobArchive;
  /** Called once a job's final image is in its message (votes are counted on that message). */
  readonly onDelivered?: (job: Job, messageId: string) => void;
}

/** Finished jobs kept in memory for their buttons (older ones are read back from the archive). */
const REMEMBERED_JOBS = 200;
/** A timelapse keeps at most this many frames; older ones are thinned out evenly. */
const MAX_TIMELAPSE_FRAMES = 48;
const TIMELAPSE_EDGE = 320;
const TIMELAPSE_FRAME_MS = 120;
const TIMELAPSE_HOLD_MS = 1500;

interface Tracker {
  readonly job: Job;
  readonly message: JobMessage;
  readonly editor: ThrottledEditor<ReplyPayload>;
  readonly log: Logger;
  /** Pixels of the finished image; with the measured rates, the job's expected work. */
  readonly outputPixels: number;
  lastPosition?: number;
  plan?: readonly ScalePlan[];
  progress?: ProgressState;
  preview?: { frame: RgbImage; encoded?: Promise<Buffer> };
  readonly frames: RgbImage[];
}

export type CancelOutcome = "cancelled" | "not_owner" | "not_active" | "unknown";

export interface MemberStatus {
  readonly jobs: readonly { job: Job; position: number; progress?: ProgressState }[];
  readonly waiting: number;
  readonly running: number;
  readonly stepsPerSecond: number | undefined;
}

export class JobService {
  readonly #options: JobServiceOptions;
  readonly #queue: FairQueue<Job>;
  readonly #meter = new ThroughputMeter();
  readonly #active = new Map<string, Tracker>();
  /** Finished jobs, for Re-roll / Stronger / Weaker / HD; oldest forgotten first. */
  readonly #finished = new Map<string, Job>();
  #closed = false;

  constructor(options: JobServiceOptions) {
    this.#options = options;
    this.#queue = new FairQueue<Job>({
      concurrency: options.concurrency,
      perUserLimit: options.perUserLimit,
      globalCap: options.globalCap,
      run: (job, signal) => this.#run(job, signal),
      onRunError: (job, error) =>
        options.log.error({ err: loggableError(error), jobId: job.id }, "job runner failed"),
    });
    this.#queue.on("changed", () => this.#refreshWaiting());
  }

  /**
   * Adds a job whose reply is already deferred; throws QueueLimitError when a limit is reached.
   * `perUserLimit` lowers the bot's per-member limit for this job (a server's own setting).
   */
  submit(job: Job, message: JobMessage, perUserLimit?: number): void {
    this.#enqueue(job, message, perUserLimit);
    this.#options.archive
      ?.save(job)
      .catch((error: unknown) =>
        this.#options.log.warn({ err: loggableError(error), jobId: job.id }, "could not archive the job"),
      );
  }

  /** Queues again, at the back, jobs a restart interrupted; returns how many were taken back. */
  async resumeUnfinished(message: (job: Job) => JobMessage): Promise<number> {
    const jobs = (await this.#options.archive?.unfinished()) ?? [];
    let resumed = 0;
    for (const job of jobs) {
      try {
        this.#enqueue({ ...job, resumed: true }, message(job));
        resumed++;
      } catch (error) {
        this.#options.log.warn({ err: loggableError(error), jobId: job.id }, "could not resume the job");
        await this.#options.archive?.markFinished(job);
      }
    }
    return resumed;
  }

  #enqueue(job: Job, message: JobMessage, perUserLimit?: number): void {
    const log = this.#options.log.child({ jobId: job.id, userId: job.userId });
    const size = scaleToLongEdge(job.content.width, job.content.height, job.settings.size);
    const tracker: Tracker = {
      job,
      message,
      log,
      editor: new ThrottledEditor((payload) => message.edit(payload), this.#options.progressIntervalMs, log),
      outputPixels: size.width * size.height,
      frames: [],
    };
    this.#active.set(job.id, tracker);
    try {
      this.#queue.submit(job, perUserLimit);
    } catch (error) {
      this.#active.delete(job.id);
      throw error;
    }
    log.info({ settings: job.settings, parentId: job.parentId, resumed: job.resumed }, "job queued");
  }

  /** A member's queued and running jobs. */
  jobCount(userId: string): number {
    return this.#queue.countOf(userId);
  }

  /** A job still queued, running or recently finished. */
  find(jobId: string): Job | undefined {
    return this.#active.get(jobId)?.job ?? this.#finished.get(jobId);
  }

  /** Like find, but also looks in the archive (jobs from before a restart). */
  async lookup(jobId: string): Promise<Job | undefined> {
    return this.find(jobId) ?? (await this.#options.archive?.load(jobId));
  }

  cancel(jobId: string, userId: string): CancelOutcome {
    const tracker = this.#active.get(jobId);
    if (!tracker) return this.#finished.has(jobId) ? "not_active" : "unknown";
    if (tracker.job.userId !== userId) return "not_owner";
    const where = this.#queue.cancel(jobId);
    if (where === "waiting") {
      this.#active.delete(jobId);
      tracker.log.info("job cancelled while waiting");
      void this.#finish(
        tracker,
        stoppedView(tracker.job, this.#preset(tracker.job), cancelledText(tracker.job)),
      );
    }
    return where ? "cancelled" : "not_active";
  }

  status(userId: string): MemberStatus {
    const running = this.#queue.runningJobs();
    const waiting = this.#queue.waitingOrder();
    const jobs = [
      ...running.map((job) => ({ job, position: 0, progress: this.#active.get(job.id)?.progress })),
      ...waiting.map((job, index) => ({ job, position: index + 1 })),
    ].filter((entry) => entry.job.userId === userId);
    return {
      jobs,
      waiting: waiting.length,
      running: running.length,
      stepsPerSecond: this.#meter.stepsPerSecond(),
    };
  }

  /**
   * Shutdown: start nothing more and stop editing replies. Unfinished jobs stay unfinished in the archive,
   * so the next start resumes them.
   */
  close(): void {
    this.#closed = true;
    this.#queue.pause();
    for (const tracker of this.#active.values()) tracker.editor.close();
  }

  #preset(job: Job) {
    return this.#options.presets.get(job.settings.presetId, job.guildId);
  }

  /** Pixel-steps: exact once the engine announced its plan, else estimated from what was measured. */
  #workOf(tracker: Tracker): number {
    if (tracker.plan) return planPixelSteps(tracker.plan);
    return this.#meter.estimateWork(tracker.job.settings.quality, tracker.outputPixels);
  }

  #refreshWaiting(): void {
    const waiting = this.#queue.waitingOrder();
    const runningRemaining = this.#queue.runningJobs().map((job) => {
      const tracker = this.#active.get(job.id);
      if (!tracker) return 0;
      const done = tracker.progress ? tracker.progress.overallStep / tracker.progress.totalSteps : 0;
      return this.#workOf(tracker) * (1 - done);
    });
    const ahead: number[] = [];
    waiting.forEach((job, index) => {
      const tracker = this.#active.get(job.id);
      if (!tracker) return;
      const position = index + 1;
      const own = this.#workOf(tracker);
      const unmoved = tracker.lastPosition === position;
      tracker.lastPosition = position;
      if (unmoved) {
        ahead.push(own);
        return;
      }
      const wait = estimateWaitMs(this.#meter, {
        runningRemaining,
        ahead,
        own,
        concurrency: this.#options.concurrency,
      });
      ahead.push(own);
      const preset = this.#preset(job);
      tracker.editor.update(() =>
        waitingView(job, preset, { position, ...wait, measured: this.#meter.measured }),
      );
    });
  }

  async #run(job: Job, signal: AbortSignal): Promise<void> {
    const tracker = this.#active.get(job.id);
    if (!tracker || this.#closed) return;
    const preset = this.#preset(job);
    tracker.log.info("job started");
    tracker.editor.update(() => startingView(job, preset));
    try {
      if (!preset) throw new PresetUnavailableError("That style is no longer available on this bot.");
      const style = await this.#options.presets.image(preset);
      tracker.frames.push(await thumbnail(job.content));
      const done = await this.#options.engine.run(job.id, this.#request(job, style), {
        signal,
        onEvent: (event) => this.#onEvent(tracker, preset, event),
      });
      this.#meter.recordRun(this.#workOf(tracker), done.totalSteps, done.elapsedMs);
      const result = await this.#result(tracker, done);
      this.#remember(job);
      if (await this.#finish(tracker, doneView(job, preset, result))) this.#delivered(tracker);
      tracker.log.info(
        { elapsedMs: done.elapsedMs, steps: done.totalSteps, framesDropped: tracker.editor.dropped },
        "job done",
      );
    } catch (error) {
      this.#remember(job);
      tracker.log.info({ err: loggableError(error) }, "job stopped");
      await this.#finish(tracker, stoppedView(job, preset, failureText(job, error)));
    } finally {
      this.#active.delete(job.id);
    }
  }

  #request(job: Job, style: RgbImage): EngineRequest {
    const { settings } = job;
    const previewEverySeconds = this.#options.progressIntervalMs / 2000;
    return {
      previewEverySeconds,
      previewEverySteps: 0,
      ...this.#options.engineOverrides,
      content: job.content,
      styles: [{ image: style, weight: 1 }],
      size: settings.size,
      quality: settings.quality,
      strength: settings.strength,
      seed: settings.seed,
      colorMode: settings.preserveColors ? "luminance" : "none",
    };
  }

  /** `preset` is the job's, resolved once when it started (not looked up again per event). */
  #onEvent(tracker: Tracker, preset: Preset, event: StylizeEvent): void {
    const { job } = tracker;
    switch (event.type) {
      case "start": {
        const last = event.plan.at(-1);
        if (last) this.#meter.recordPlan(job.settings.quality, event.plan, last.width * last.height);
        tracker.plan = event.plan;
        tracker.log.debug({ backend: event.backend, totalSteps: event.totalSteps }, "engine started");
        return;
      }
      case "step": {
        tracker.progress = {
          scale: event.scale,
          scales: tracker.plan?.length ?? event.scale + 1,
          step: event.step,
          stepsInScale: tracker.plan?.[event.scale]?.steps ?? event.step,
          overallStep: event.overallStep,
          totalSteps: event.totalSteps,
          etaMs: event.etaMs,
        };
        break;
      }
      case "preview":
        tracker.preview = { frame: event.image };
        void this.#keepFrame(tracker, event.image);
        break;
      default:
        return;
    }
    tracker.editor.update(async () => {
      const preview = tracker.preview;
      if (preview) preview.encoded ??= encodeImage(preview.frame, { format: "jpeg", quality: 75 });
      return runningView(job, preset, tracker.progress, await preview?.encoded);
    });
  }

  async #keepFrame(tracker: Tracker, frame: RgbImage): Promise<void> {
    const small = await thumbnail(frame);
    tracker.frames.push(small);
    // Thin out evenly (keeping the photo at index 0) so long runs still fit the frame budget.
    if (tracker.frames.length > MAX_TIMELAPSE_FRAMES) {
      const kept = tracker.frames.filter((_, index) => index === 0 || index % 2 === 1);
      tracker.frames.splice(0, tracker.frames.length, ...kept);
    }
  }

  async #result(tracker: Tracker, done: DoneEvent): Promise<FinishedResult> {
    const limit = tracker.message.attachmentSizeLimit;
    const image = await encodeToFit(done.image, limit);
    let note: string | undefined;
    if (image.width !== done.image.width) {
      note = `Shrunk to ${image.width}×${image.height} to fit Discord's upload limit.`;
    }
    let timelapse: FinishedResult["timelapse"];
    try {
      const frames = [...tracker.frames, await thumbnail(done.image)];
      const data = await encodeAnimation(frames, {
        delayMs: TIMELAPSE_FRAME_MS,
        holdLastMs: TIMELAPSE_HOLD_MS,
        format: "gif",
        maxEdge: TIMELAPSE_EDGE,
      });
      if (data.length + image.data.length <= limit) timelapse = { data, format: "gif" };
      else note = [note, "The timelapse was too large to attach."].filter(Boolean).join(" ");
    } catch (error) {
      tracker.log.warn({ err: loggableError(error) }, "timelapse failed");
    }
    return { image, timelapse, elapsedMs: done.elapsedMs, note };
  }

  /** True when the payload reached Discord. */
  async #finish(tracker: Tracker, payload: ReplyPayload): Promise<boolean> {
    if (this.#closed) return false; // shutting down mid-job: leave it unfinished so it resumes
    this.#options.archive
      ?.markFinished(tracker.job)
      .catch((error: unknown) =>
        tracker.log.warn({ err: loggableError(error) }, "could not archive the job"),
      );
    try {
      await tracker.editor.finish(payload);
      return true;
    } catch (error) {
      tracker.log.error({ err: loggableError(error) }, "could not deliver the job's final message");
      return false;
    }
  }

  #delivered(tracker: Tracker): void {
    const messageId = tracker.message.messageId;
    if (!messageId) return;
    try {
      this.#options.onDelivered?.(tracker.job, messageId);
    } catch (error) {
      tracker.log.warn({ err: loggableError(error) }, "could not record the delivered result");
    }
  }

  #remember(job: Job): void {
    this.#finished.set(job.id, job);
    for (const id of this.#finished.keys()) {
      if (this.#finished.size <= REMEMBERED_JOBS) break;
      this.#finished.delete(id);
    }
  }
}

async function thumbnail(image: RgbImage): Promise<RgbImage> {
  const size = fitWithin(image.width, image.height, TIMELAPSE_EDGE);
  if (size.width === image.width && size.height === image.height) return image;
  return resizeImage(image, size.width, size.height);
}

function cancelledText(job: Job): string {
  return `Cancelled by <@${job.userId}>.`;
}

function failureText(job: Job, error: unknown): string {
  if (error instanceof JobCancelledError) return cancelledText(job);
  if (error instanceof PresetUnavailableError) return error.message;
  if (error instanceof EngineCrashedError) {
    return `Sorry <@${job.userId}> — ${error.message}. Nothing else was affected; please try again.`;
  }
  if (error instanceof EngineUnavailableError) {
    return `Sorry <@${job.userId}> — the painting engine isn't available right now (${error.message}).`;
  }
  return `Sorry <@${job.userId}> — something went wrong while painting. Please try again.`;
}
