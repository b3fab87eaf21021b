import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EngineDone, RunOptions } from "../src/jobs/engine-process.js";
import type { EngineJob } from "../src/jobs/engine-protocol.js";
import type { JobEvent } from "../src/jobs/events.js";
import { FleetJobRunner, FleetWorker, JobRefusedError, JobStopError } from "../src/jobs/index.js";
import { createLogger } from "../src/log.js";
import { BlobStore, Store } from "../src/store/index.js";
import { deletePrefix, REDIS_URL, redisReachable, skipNotice, testPrefix } from "./helpers/redis.js";

/**
 * The fleet's runner and worker in this process, on a real Redis, with a scripted engine: a job goes
 * from the bot side through BullMQ to a worker and back (progress with a preview, the result stored by
 * the bot); members interleave round-robin; the limits hold when two bot processes reserve at once;
 * cancel reaches a waiting job and a running one from another process; a worker shut down hands its job
 * back for another to finish.
 */

const reachable = await redisReachable();
if (!reachable) skipNotice("test/jobs-fleet.test.ts");

const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
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
let prefix: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  photo = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#3366cc" } })
    .png()
    .toBuffer();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  if (prefix) await deletePrefix(prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs end when the test says (`finish`), or at once with `auto`; every run is recorded in order. */
class ScriptedEngine {
  readonly started: string[] = [];
  readonly aborted: string[] = [];
  /** What each run was handed. */
  readonly jobs = new Map<string, EngineJob>();
  readonly #pending = new Map<string, (done: EngineDone) => void>();
  constructor(
    readonly size = 1,
    readonly auto = false,
  ) {}

  run(jobId: string, job: EngineJob, options: RunOptions): Promise<EngineDone> {
    this.started.push(jobId);
    this.jobs.set(jobId, job);
    options.onEvent({
      type: "start",
      backend: "cpu",
      seed: 3,
      plan: [{ width: 8, height: 6, steps: 2 }],
      totalSteps: 2,
    });
    const step = {
      type: "step",
      scale: 0,
      step: 1,
      overallStep: 1,
      totalSteps: 2,
      elapsedMs: 5,
      etaMs: 5,
    } as const;
    options.onEvent({ ...step, losses: { content: 1, style: 1, tv: 1, total: 3 } });
    const image = { data: photo, format: "png" as const, width: 8, height: 6 };
    options.onEvent({ type: "preview", overallStep: 1, preview: image, frame: image });
    return new Promise((resolve, reject) => {
      this.#pending.set(jobId, resolve);
      options.signal?.addEventListener("abort", () => {
        this.aborted.push(jobId);
        reject(new JobStopError("cancelled", "cancelled"));
      });
      if (this.auto) setTimeout(() => this.finish(jobId), 20);
    });
  }

  finish(jobId: string): void {
    const image = { data: photo, format: "png" as const, width: 8, height: 6 };
    this.#pending.get(jobId)?.({ type: "done", image, frame: image, elapsedMs: 10, totalSteps: 2 });
  }
}

async function setUp() {
  prefix = testPrefix("runner");
  dir = await mkdtemp(path.join(tmpdir(), "stylize-fleet-"));
}

/** A bot process's runner; `owns: false` makes one that follows no job (another shard). */
async function botRunner(
  options: { owns?: boolean; limits?: { perUserLimit: number; globalCap: number } } = {},
) {
  const blobs = new BlobStore(path.join(dir, "blobs"));
  const store = Store.open(path.join(dir, "stylize.db"), {
    legacyJobs: { dir: path.join(dir, "jobs"), blobs },
  });
  const jobs = new FleetJobRunner({
    redisUrl: REDIS_URL,
    prefix,
    store,
    blobs,
    prepare: async () => ({ styles: [{ image: photo, weight: 1 }] }),
    limits: options.limits ?? { perUserLimit: 5, globalCap: 20 },
    log,
    engineOptions: {},
    jobTimeoutMs: 60_000,
    keepJobsMs: 24 * 3600_000,
    refreshWaitingMs: 60_000,
    owns: () => options.owns ?? true,
  });
  const events: { jobId: string; event: JobEvent }[] = [];
  jobs.onEvent((jobId, event) => events.push({ jobId, event }));
  await jobs.start();
  closers.push(async () => {
    await jobs.close();
    store.close();
  });
  const ofJob = (id: string) => events.filter((e) => e.jobId === id).map((e) => e.event);
  return { jobs, store, blobs, events, ofJob, types: (id: string) => ofJob(id).map((e) => e.type) };
}

async function startWorker(engine: ScriptedEngine) {
  const worker = new FleetWorker({
    redisUrl: REDIS_URL,
    prefix,
    engine,
    log,
    lockMs: 5000,
    blobTtlMs: 60_000,
  });
  await worker.start();
  let closed = false;
  closers.push(async () => {
    if (!closed) await worker.close();
  });
  return {
    worker,
    close: async (graceMs = 0) => {
      closed = true;
      await worker.close({ graceMs });
    },
  };
}

async function submit(jobs: FleetJobRunner, userId = "alice") {
  return jobs.submit(await jobs.reserve({ userId }), {
    userId,
    settings,
    content: photo,
    replyTo: { channelId: "c" },
  });
}

async function eventually<T>(check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!reachable)("FleetJobRunner and FleetWorker on Redis", () => {
  it("paints a job on a worker: progress with a preview, the result stored by the bot, the place freed", async () => {
    await setUp();
    const bot = await botRunner({ limits: { perUserLimit: 1, globalCap: 20 } });
    await startWorker(new ScriptedEngine(1, true));
    const job = await submit(bot.jobs);
    await eventually(() => bot.types(job.id).includes("done"));
    const types = bot.types(job.id);
    expect(types.indexOf("started")).toBeLessThan(types.indexOf("progress"));
    expect(types.indexOf("progress")).toBeLessThan(types.indexOf("done"));
    const preview = bot.ofJob(job.id).find((e) => e.type === "progress" && e.preview);
    expect(preview?.type === "progress" && preview.preview?.data.equals(photo)).toBe(true);
    const stored = bot.store.jobs.get(job.id)!;
    expect(stored.state).toBe("done");
    expect((await bot.blobs.get(stored.resultBlob!)).equals(photo)).toBe(true);
    // The member's only place is free again (the limit is 1).
    await eventually(() => bot.types(job.id).includes("timelapse"));
    await expect(bot.jobs.reserve({ userId: "alice" })).resolves.toBeDefined();
  });

  it("a refine reaches the worker's engine with its starting picture and no start noise", async () => {
    await setUp();
    const bot = await botRunner();
    const engine = new ScriptedEngine(1, true);
    await startWorker(engine);
    const result = await sharp({ create: { width: 4, height: 3, channels: 3, background: "#aa2200" } })
      .png()
      .toBuffer();
    const plain = await submit(bot.jobs);
    const hd = await bot.jobs.submit(await bot.jobs.reserve({ userId: "alice" }), {
      userId: "alice",
      settings: { ...settings, size: 16 },
      content: photo,
      initImage: result,
      parentId: plain.id,
      replyTo: { channelId: "c" },
    });
    await eventually(() => bot.types(hd.id).includes("done") && bot.types(plain.id).includes("done"));
    const refine = engine.jobs.get(hd.id)!;
    expect(Buffer.from(refine.initImage!).equals(result)).toBe(true);
    expect(refine.options).toMatchObject({ size: 16, startNoise: 0 });
    expect(engine.jobs.get(plain.id)!.initImage).toBeUndefined();
    expect(engine.jobs.get(plain.id)!.options.startNoise).toBeUndefined();
  });

  it("interleaves members round-robin: alice's queued jobs do not hold up bob and carol", async () => {
    await setUp();
    const bot = await botRunner();
    const engine = new ScriptedEngine(1);
    await startWorker(engine);
    /** Ends the running job and returns the one the worker takes next. */
    const next = async () => {
      const running = engine.started.at(-1)!;
      engine.finish(running);
      return eventually(
        () => engine.started.length > 1 + engine.started.indexOf(running) && engine.started.at(-1),
      );
    };
    const a1 = await submit(bot.jobs, "alice");
    await eventually(() => engine.started.includes(a1.id));
    const a2 = await submit(bot.jobs, "alice");
    const a3 = await submit(bot.jobs, "alice");
    const b1 = await submit(bot.jobs, "bob");
    const c1 = await submit(bot.jobs, "carol");
    expect([await next(), await next(), await next()]).toEqual([b1.id, c1.id, a2.id]);
    // A member who comes later joins the round being served (a2's), ahead of alice's later rounds.
    const a4 = await submit(bot.jobs, "alice");
    const d1 = await submit(bot.jobs, "dave");
    expect([await next(), await next(), await next()]).toEqual([d1.id, a3.id, a4.id]);
    engine.finish(a4.id);
    await eventually(() => bot.types(a4.id).includes("done"));
  });

  it("holds the member limit and the global cap when two bot processes reserve at the same moment", async () => {
    await setUp();
    const limits = { perUserLimit: 2, globalCap: 3 };
    const [one, two] = [await botRunner({ limits }), await botRunner({ limits, owns: false })];
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).jobs.reserve({ userId: "alice" })),
    );
    const held = attempts.filter((a) => a.status === "fulfilled");
    expect(held).toHaveLength(2);
    for (const a of attempts)
      if (a.status === "rejected") expect((a.reason as JobRefusedError).code).toBe("member_limit");
    // The cap counts every member: one more place, then queue_full.
    await one.jobs.reserve({ userId: "bob" });
    await expect(two.jobs.reserve({ userId: "carol" })).rejects.toMatchObject({ code: "queue_full" });
    // A released place is free for anyone, in either process.
    one.jobs.release(
      (held[0] as PromiseFulfilledResult<Awaited<ReturnType<FleetJobRunner["reserve"]>>>).value,
    );
    await expect(
      (async () => {
        for (;;) {
          try {
            return await two.jobs.reserve({ userId: "carol" });
          } catch (error) {
            if (!(error instanceof JobRefusedError)) throw error;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      })(),
    ).resolves.toBeDefined();
  });

  it("cancels from another bot process: a waiting job leaves the queue, a running one stops on its worker", async () => {
    await setUp();
    const limits = { perUserLimit: 2, globalCap: 20 };
    const owner = await botRunner({ limits });
    const other = await botRunner({ limits, owns: false });
    const engine = new ScriptedEngine(1);
    await startWorker(engine);
    const running = await submit(owner.jobs);
    const waiting = await submit(owner.jobs);
    await eventually(() => engine.started.includes(running.id));
    expect(await other.jobs.cancel(waiting.id, "mallory")).toBe("not_owner");
    expect(await other.jobs.cancel(waiting.id, "alice")).toBe("cancelled");
    await eventually(() => owner.types(waiting.id).includes("stopped"));
    // The cancelled job's place is free again: alice (limit 2) may queue one more.
    owner.jobs.release(await owner.jobs.reserve({ userId: "alice" }));
    expect(await other.jobs.cancel(running.id, "alice")).toBe("cancelled");
    await eventually(() => owner.types(running.id).includes("stopped"));
    expect(engine.aborted).toEqual([running.id]);
    expect(engine.started).not.toContain(waiting.id);
    for (const id of [running.id, waiting.id]) {
      expect(owner.ofJob(id).at(-1)).toEqual({ type: "stopped", reason: "cancelled" });
      expect(owner.store.jobs.get(id)?.state).toBe("cancelled");
    }
    // The process that owns no job told nobody anything.
    expect(other.events).toEqual([]);
    expect(await other.jobs.cancel(running.id, "alice")).toBe("not_active");
  });

  it("a worker shut down mid-job hands it back; another worker paints it", async () => {
    await setUp();
    const bot = await botRunner();
    const first = new ScriptedEngine(1);
    const leaving = await startWorker(first);
    const job = await submit(bot.jobs);
    await eventually(() => first.started.includes(job.id));
    await leaving.close(50);
    expect(first.aborted).toEqual([job.id]);
    expect(bot.store.jobs.get(job.id)?.state).toBe("running");
    const second = new ScriptedEngine(1, true);
    await startWorker(second);
    await eventually(() => bot.types(job.id).includes("done"));
    expect(second.started).toEqual([job.id]);
    expect(bot.types(job.id).filter((t) => t === "started")).toHaveLength(2);
    expect(bot.store.jobs.get(job.id)?.state).toBe("done");
  });
});
