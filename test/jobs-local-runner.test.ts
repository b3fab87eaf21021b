import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EngineDone, RunOptions } from "../src/jobs/engine-process.js";
import type { EngineJob } from "../src/jobs/engine-protocol.js";
import type { JobEvent } from "../src/jobs/events.js";
import { JobStopError, LocalJobRunner, type PrepareJob } from "../src/jobs/index.js";
import { createLogger } from "../src/log.js";
import { BlobStore, Store } from "../src/store/index.js";

/**
 * The runner's life cycle with a scripted engine, on a real SQLite store and blob folder: the order of
 * events, what is written before each, and what a restart finds — a job that was running runs once more
 * and fails the second time, an ending nobody was told about is told again, and job files written by
 * older versions are imported once.
 */

const log = createLogger({ level: "silent" });
const settings = {
  presetId: "starry",
  strength: 0.5,
  quality: "fast",
  size: 8,
  preserveColors: false,
  seed: 3,
} as const;
let dir: string;
let photo: Buffer;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-runner-"));
  photo = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#3366cc" } })
    .png()
    .toBuffer();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** An engine whose runs the test ends: `finish(id)` completes a run, `hang` leaves it running. */
class ScriptedEngine {
  readonly size = 1;
  readonly started: string[] = [];
  /** What each run was handed. */
  readonly jobs = new Map<string, EngineJob>();
  readonly #pending = new Map<string, (done: EngineDone) => void>();

  run(jobId: string, job: EngineJob, options: RunOptions): Promise<EngineDone> {
    this.started.push(jobId);
    this.jobs.set(jobId, job);
    if (options.signal?.aborted) return Promise.reject(new JobStopError("cancelled", "cancelled"));
    options.onEvent({
      type: "start",
      backend: "cpu",
      seed: 3,
      plan: [{ width: 8, height: 6, steps: 2 }],
      totalSteps: 2,
    });
    options.onEvent({
      type: "step",
      scale: 0,
      step: 1,
      overallStep: 1,
      totalSteps: 2,
      losses: { content: 1, style: 1, tv: 1, total: 3 },
      elapsedMs: 5,
      etaMs: 5,
    });
    return new Promise((resolve, reject) => {
      this.#pending.set(jobId, resolve);
      options.signal?.addEventListener("abort", () => reject(new JobStopError("cancelled", "cancelled")));
    });
  }

  finish(jobId: string): void {
    const image = { data: photo, format: "png" as const, width: 8, height: 6 };
    this.#pending.get(jobId)?.({ type: "done", image, frame: image, elapsedMs: 10, totalSteps: 2 });
  }
}

function runner(
  engine: ScriptedEngine,
  prepare: PrepareJob = async () => ({ styles: [{ image: photo, weight: 1 }] }),
) {
  const blobs = new BlobStore(path.join(dir, "blobs"));
  const store = Store.open(path.join(dir, "stylize.db"), {
    legacyJobs: { dir: path.join(dir, "jobs"), blobs },
  });
  const jobs = new LocalJobRunner({
    store,
    blobs,
    engine,
    prepare,
    limits: { perUserLimit: 5, globalCap: 10 },
    log,
    engineOptions: {},
    jobTimeoutMs: 60_000,
    keepJobsMs: 7 * 24 * 3600_000,
    refreshWaitingMs: 60_000,
  });
  const events: { jobId: string; event: JobEvent }[] = [];
  jobs.onEvent((jobId, event) => events.push({ jobId, event }));
  return {
    jobs,
    store,
    events,
    types: (id: string) => events.filter((e) => e.jobId === id).map((e) => e.event.type),
  };
}

async function submit(jobs: LocalJobRunner, userId = "alice") {
  return jobs.submit(await jobs.reserve({ userId }), {
    userId,
    settings,
    content: photo,
    replyTo: { channelId: "c" },
  });
}

describe("LocalJobRunner", () => {
  it("stores the job, runs it, stores the result before saying done, and frees the member's place", async () => {
    const engine = new ScriptedEngine();
    const { jobs, store, types, events } = runner(engine);
    await jobs.start();
    const job = await submit(jobs);
    await expect.poll(() => engine.started).toEqual([job.id]);
    expect(store.jobs.get(job.id)?.state).toBe("running");
    engine.finish(job.id);
    await expect.poll(() => types(job.id).includes("timelapse")).toBe(true);
    // Nothing ahead of it: no "waiting" (the queue started it at once).
    expect(types(job.id)).toEqual(["started", "progress", "finishing", "done", "timelapse"]);
    const stored = store.jobs.get(job.id)!;
    expect(stored.state).toBe("done");
    const done = events.find((e) => e.event.type === "done")!.event as Extract<JobEvent, { type: "done" }>;
    expect((await jobs.blob(stored.resultBlob!)).equals(done.image.data)).toBe(true);
    expect(stored.reportedAt).toBeUndefined(); // until the caller says the member was told
    await jobs.markReported(job.id);
    expect(store.jobs.get(job.id)?.reportedAt).toBeGreaterThan(0);
    expect((await jobs.status("alice")).jobs).toEqual([]);
    await jobs.close();
    store.close();
  });

  it("starts a refine (a job with a picture to start from) from that picture as it is; other jobs keep the seed's noise", async () => {
    const engine = new ScriptedEngine();
    const { jobs, store } = runner(engine);
    await jobs.start();
    const first = await submit(jobs);
    await expect.poll(() => engine.started).toEqual([first.id]);
    engine.finish(first.id);
    await expect.poll(() => store.jobs.get(first.id)?.state).toBe("done");
    // The picture to refine (its own colour, so it cannot be mistaken for the photo).
    const result = await sharp({ create: { width: 4, height: 3, channels: 3, background: "#aa2200" } })
      .png()
      .toBuffer();
    const hd = await jobs.submit(await jobs.reserve({ userId: "alice" }), {
      userId: "alice",
      settings: { ...settings, size: 16 },
      content: photo,
      initImage: result,
      parentId: first.id,
      replyTo: { channelId: "c" },
    });
    await expect.poll(() => engine.started).toEqual([first.id, hd.id]);
    const refine = engine.jobs.get(hd.id)!;
    expect(Buffer.from(refine.initImage!).equals(result)).toBe(true);
    expect(refine.options).toMatchObject({ size: 16, quality: "fast", seed: 3, startNoise: 0 });
    const painted = engine.jobs.get(first.id)!;
    expect(painted.initImage).toBeUndefined();
    expect(painted.options.startNoise).toBeUndefined(); // the engine's default: the seed moves the start
    engine.finish(hd.id);
    await jobs.close();
    store.close();
  });

  it("ends a job whose style is gone with a reason the caller can word", async () => {
    const engine = new ScriptedEngine();
    const { jobs, store, events } = runner(engine, async () => {
      throw new JobStopError("style_missing", "that style is no longer available");
    });
    await jobs.start();
    const job = await submit(jobs);
    await expect.poll(() => store.jobs.get(job.id)?.state).toBe("failed");
    expect(events.at(-1)).toEqual({
      jobId: job.id,
      event: { type: "stopped", reason: "style_missing", detail: "that style is no longer available" },
    });
    expect(engine.started).toEqual([]);
    await jobs.close();
    store.close();
  });

  it("after a restart runs an interrupted job once more, fails it the second time, and re-tells unreported endings", async () => {
    const engine = new ScriptedEngine();
    const first = runner(engine);
    await first.jobs.start();
    const running = await submit(first.jobs, "alice");
    const queued = await submit(first.jobs, "bob");
    await expect.poll(() => engine.started).toEqual([running.id]);
    first.store.close(); // the process "dies": nothing more is written

    const second = runner(new ScriptedEngine());
    expect((await second.jobs.pending()).map((j) => j.id).sort()).toEqual([running.id, queued.id].sort());
    await second.jobs.start();
    await expect.poll(() => second.store.jobs.get(running.id)?.state).toBe("running");
    expect(second.store.jobs.get(running.id)?.attempts).toBe(2);
    second.store.close(); // dies again, mid-run of the second attempt

    const third = runner(new ScriptedEngine());
    await third.jobs.start();
    expect(third.store.jobs.get(running.id)?.state).toBe("failed");
    expect(third.events.find((e) => e.jobId === running.id)?.event).toMatchObject({
      type: "stopped",
      reason: "crashed",
    });
    await third.jobs.close();
    third.store.close();

    // The failure was never reported (no caller confirmed it): the next start tells it again.
    const fourth = runner(new ScriptedEngine());
    await fourth.jobs.start();
    expect(fourth.events.filter((e) => e.jobId === running.id).map((e) => e.event.type)).toEqual(["stopped"]);
    await fourth.jobs.markReported(running.id);
    await fourth.jobs.close();
    fourth.store.close();
    const fifth = runner(new ScriptedEngine());
    await fifth.jobs.start();
    expect(fifth.events.filter((e) => e.jobId === running.id)).toEqual([]);
    await fifth.jobs.close();
    fifth.store.close();
  });

  it("imports the job files of older versions once: finished ones keep their photo, unfinished ones run again", async () => {
    const legacy = path.join(dir, "jobs");
    await mkdir(legacy, { recursive: true });
    const now = Date.now();
    const record = (id: string, finishedAt?: number) => ({
      id,
      userId: "carol",
      channelId: "300000000000000001",
      createdAt: now - 60_000,
      finishedAt,
      settings: { ...settings, size: 64 },
    });
    await writeFile(path.join(legacy, "old1.json"), JSON.stringify(record("old1", now - 30_000)));
    await writeFile(path.join(legacy, "old1.png"), photo);
    await writeFile(path.join(legacy, "old2.json"), JSON.stringify(record("old2")));
    await writeFile(path.join(legacy, "old2.png"), photo);
    await writeFile(path.join(legacy, "broken.json"), "{ not json");

    const engine = new ScriptedEngine();
    const { jobs, store } = runner(engine);
    const finished = store.jobs.get("old1")!;
    expect([finished.state, finished.reportedAt]).toEqual(["done", now - 30_000]);
    expect((await jobs.blob(finished.contentBlob)).equals(photo)).toBe(true);
    expect(store.jobs.get("old2")?.state).toBe("queued");
    expect(store.jobs.get("old2")?.replyTo).toEqual({ channelId: "300000000000000001" });
    await jobs.start();
    await expect.poll(() => engine.started).toEqual(["old2"]);
    const version = store.schemaVersion;
    await jobs.close();
    store.close();

    // The import was a schema step: a file appearing later is not imported by the next open.
    await writeFile(path.join(legacy, "old3.json"), JSON.stringify(record("old3", now)));
    await writeFile(path.join(legacy, "old3.png"), photo);
    const again = runner(new ScriptedEngine());
    expect(again.store.schemaVersion).toBe(version);
    expect(again.store.jobs.get("old3")).toBeUndefined();
    expect(again.store.jobs.get("old1")?.state).toBe("done");
    again.store.close();
  });

  it("estimates from the engine's plan for the settings: a starting picture (HD) skips the scales it covers", async () => {
    const { jobs, store } = runner(new ScriptedEngine());
    const picture = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: "#cc6633" } })
        .png()
        .toBuffer();
    const hd = { ...settings, quality: "balanced", size: 1024 } as const;
    const content = await picture(400, 300);
    const fromPhoto = await jobs.estimate({ settings: hd, content });
    const refining = await jobs.estimate({ settings: hd, content, initImage: await picture(512, 384) });
    expect(fromPhoto.measured).toBe(false);
    // 724 and 1024 px only, against 512, 724 and 1024 from the photo (the first scale its longest).
    const pixels = (w: number, h: number) => w * h;
    const expected =
      (50 * pixels(724, 543) + 50 * pixels(1024, 768)) /
      (75 * pixels(512, 384) + 50 * pixels(724, 543) + 50 * pixels(1024, 768));
    expect(refining.runMs / fromPhoto.runMs).toBeCloseTo(expected, 2);
    await jobs.close();
    store.close();
  });
});
