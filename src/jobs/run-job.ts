import sharp from "sharp";
import { fitLongEdge } from "../engine/index.js";
import { Timelapse } from "../images/index.js";
import { type EngineDone, EngineStopError, type RunOptions } from "./engine-process.js";
import type { EngineJob, EngineOptions } from "./engine-protocol.js";
import type { EncodedImage, JobEvent } from "./events.js";
import { type JobPlan, stepsKey } from "./expected-steps.js";
import type { JobRecord, StopReason } from "./job.js";
import { type CostModel, JobProgress } from "./job-progress.js";
import { JobStopError, type PreparedJob } from "./job-runner.js";

/**
 * One job's run, from its record to a stored result: the caller's `prepare` supplies the paintings, the
 * photo comes from the blob store, the engine runs it, and the engine's events become job events
 * (progress by work, previews, timelapse frames). The result is stored before this returns; recording
 * the job's state is the runner's.
 */

/** Where a run reads its photo and paintings and keeps its result: the blob store, or Redis on a fleet worker. */
export interface BlobAccess {
  get(id: string): Promise<Buffer>;
  put(data: Uint8Array): Promise<string>;
}

/** What runs a job: a pool of engine processes (or a test double). */
export interface Engine {
  readonly size: number;
  run(jobId: string, job: EngineJob, options: RunOptions): Promise<EngineDone>;
  warmUp?(): Promise<unknown>;
  close?(): Promise<void>;
}

export interface RunJobOptions {
  readonly engine: Engine;
  readonly blobs: BlobAccess;
  /** The paintings of a job without its own (the caller looks its style up). */
  readonly prepare: () => Promise<PreparedJob>;
  /** Engine options every job gets (a preview cadence, say); the job's own settings win. */
  readonly engineOptions: EngineOptions;
  readonly timeoutMs: number;
  readonly emit: (event: JobEvent) => void;
  /** Told the run's expected work (pixel-steps) once the engine has planned it. */
  readonly onPlan?: (work: number) => void;
  /** The step cost model of the last runs, so progress is right from the first scale on. */
  readonly costModel?: CostModel;
  /** The steps each scale of a plan is expected to take (learnt from earlier runs); default: the caps. */
  readonly expectSteps?: (plan: JobPlan) => readonly number[];
  readonly signal: AbortSignal;
}

export interface RunJobResult {
  readonly image: EncodedImage;
  readonly resultBlob: string;
  readonly elapsedMs: number;
  /** The engine's plan and the steps each of its scales really took, for the throughput meter. */
  readonly run: { readonly plan: JobPlan; readonly taken: readonly number[] } | undefined;
  /** The step cost model this run measured. */
  readonly costModel: CostModel | undefined;
  readonly timelapse: Timelapse;
}

/** Long edge of timelapse frames. */
const FRAME_EDGE = 320;

/** What a run needs of a job's record. */
export type RunnableJob = Pick<JobRecord, "id" | "settings" | "contentBlob" | "styleBlob" | "initBlob">;

export async function runJob(job: RunnableJob, options: RunJobOptions): Promise<RunJobResult> {
  const { emit } = options;
  // A painting the member brought travels with the job; a named style is the caller's to look up.
  const prepared: PreparedJob = job.styleBlob
    ? { styles: [{ image: await options.blobs.get(job.styleBlob), weight: 1 }] }
    : await options.prepare();
  const content = await options.blobs.get(job.contentBlob);
  const timelapse = new Timelapse();
  timelapse.add({
    data: await sharp(content).resize(FRAME_EDGE, FRAME_EDGE, { fit: "inside" }).jpeg().toBuffer(),
  });
  const { settings } = job;
  let progress: JobProgress | undefined;
  let plan: JobPlan | undefined;
  let last = { scale: 0, step: 0, scales: 1, fraction: 0, etaMs: 0 };
  let finishing = false;

  const engineOptions: EngineOptions = {
    ...options.engineOptions,
    ...prepared.options,
    size: settings.size,
    quality: settings.quality,
    strength: settings.strength,
    seed: settings.seed,
    colorMode: settings.preserveColors ? "luminance" : "none",
    // A job with a starting picture refines a finished painting (HD): it starts from it as it is,
    // since the seed's noise would re-randomise the picture the member chose.
    ...(job.initBlob && { startNoise: 0 }),
  };
  options.signal.throwIfAborted();
  const done = await options.engine.run(
    job.id,
    {
      options: engineOptions,
      content,
      styles: prepared.styles,
      ...(job.initBlob && { initImage: await options.blobs.get(job.initBlob) }),
      frameEdge: FRAME_EDGE,
    },
    {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      onEvent: (event) => {
        switch (event.type) {
          case "start": {
            plan = {
              scales: event.plan,
              key: stepsKey(engineOptions, event.plan.length, Boolean(job.initBlob)),
            };
            progress = new JobProgress(event.plan, options.costModel, options.expectSteps?.(plan));
            options.onPlan?.(progress.expectedWork);
            last = { ...last, scales: event.plan.length };
            return;
          }
          case "step": {
            if (!progress) return;
            const { fraction, etaMs } = progress.step(event.scale, event.step, event.elapsedMs);
            last = { ...last, scale: event.scale, step: event.step, fraction, etaMs };
            emit({ type: "progress", ...last });
            if (!finishing && event.overallStep === event.totalSteps) {
              finishing = true;
              emit({ type: "finishing" });
            }
            return;
          }
          case "preview":
            timelapse.add(event.frame);
            if (!finishing) emit({ type: "progress", ...last, preview: event.preview });
            return;
        }
      },
    },
  );
  if (!finishing) emit({ type: "finishing" });
  timelapse.add(done.frame);
  const resultBlob = await options.blobs.put(done.image.data);
  return {
    image: done.image,
    resultBlob,
    elapsedMs: done.elapsedMs,
    run: plan && progress && { plan, taken: [...progress.taken] },
    costModel: progress?.fitted(),
    timelapse,
  };
}

/** The reason and member-safe detail of a run that ended without a result. */
export function stopOf(error: unknown): { reason: StopReason; detail?: string } {
  if (error instanceof JobStopError || error instanceof EngineStopError) {
    return { reason: error.reason, detail: error.reason === "cancelled" ? undefined : error.message };
  }
  return { reason: "failed" };
}

/** Pixels of the painting of a width×height photo at `size` (its long edge). */
export function outputPixels(width: number | undefined, height: number | undefined, size: number): number {
  const output = fitLongEdge(width ?? size, height ?? size, size);
  return output.width * output.height;
}
