import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnginePool } from "../src/jobs/engine-pool.js";
import { EngineStopError } from "../src/jobs/engine-process.js";
import type { EngineEvent, EngineJob } from "../src/jobs/engine-protocol.js";
import { createLogger } from "../src/log.js";

/**
 * The supervisor's contract with any process speaking the engine protocol, checked with a scripted
 * stand-in engine: what a native abort, a kill -9, an exception, a hang, a memory blow-up or an overlong
 * job does to that job and to the next one. (The real engine host runs in the bot's end-to-end tests.)
 */

const FAKE_ENGINE = `
const send = (m) => process.send(m);
process.once("message", (init) => {
  if (init.config.weightsLocation === "missing") {
    send({ type: "init-failed", message: "VGG19 weights not found at missing" });
    return;
  }
  send({ type: "ready", backend: "cpu" });
  const cancelled = new Set();
  const hoard = [];
  process.on("message", async (message) => {
    if (message.type === "cancel") { cancelled.add(message.jobId); return; }
    const { jobId, job } = message;
    const mode = job.options.seed;
    if (mode === 1) process.abort();                       // a native crash (SIGABRT)
    if (mode === 2) throw new Error("boom in the engine");  // uncaught exception: the process exits
    if (mode === 3) { while (true) {} }                     // stuck in one long kernel
    if (mode === 4) { setInterval(() => hoard.push(Buffer.alloc(64 * 2 ** 20, 1)), 10); return; }
    if (mode === 5) { send({ type: "event", jobId, event: { type: "step", scale: 0, step: 1, overallStep: 1,
      totalSteps: 5, losses: {}, elapsedMs: 1, etaMs: 0 } }); return; } // never finishes
    if (mode === 6) { send({ type: "failed", jobId, message: "the engine refused" }); return; }
    for (let step = 1; step <= 5; step++) {
      await new Promise((r) => setTimeout(r, 20));
      if (cancelled.has(jobId)) { send({ type: "cancelled", jobId }); return; }
      send({ type: "event", jobId, event: { type: "step", scale: 0, step, overallStep: step, totalSteps: 5,
        losses: {}, elapsedMs: step * 20, etaMs: 0 } });
    }
    const image = { data: Buffer.from(job.content).reverse(), format: "png", width: 1, height: 1 };
    send({ type: "event", jobId, event: { type: "done", image, frame: image, elapsedMs: 100, totalSteps: 5 } });
  });
});
process.on("disconnect", () => process.exit(0));
`;

let dir: string;
let script: string;
const log = createLogger({ level: "silent" });
const job = (seed: number): EngineJob => ({
  options: { seed },
  content: new Uint8Array([1, 2, 3]),
  styles: [{ image: new Uint8Array([4]), weight: 1 }],
  frameEdge: 8,
});

function pool(options: { weights?: string; maxRssBytes?: number } = {}) {
  return new EnginePool({
    size: 1,
    script,
    log,
    cancelGraceMs: 300,
    maxRssBytes: options.maxRssBytes ?? 4 * 2 ** 30,
    respawnBackoffMs: { min: 10, max: 50 },
    config: { weightsLocation: options.weights ?? "ok", backend: "cpu", threads: 1, logLevel: "silent" },
  });
}

const run = (engine: EnginePool, seed: number, extra: { signal?: AbortSignal; timeoutMs?: number } = {}) => {
  const events: EngineEvent[] = [];
  const done = engine.run(`job-${seed}`, job(seed), {
    onEvent: (e) => events.push(e),
    timeoutMs: extra.timeoutMs ?? 30_000,
    signal: extra.signal,
  });
  return { events, done };
};

async function stopReason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineStopError);
  return `${(error as EngineStopError).reason}: ${(error as Error).message}`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-engine-pool-"));
  script = path.join(dir, "fake-engine.cjs");
  await writeFile(script, FAKE_ENGINE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("EnginePool (engine processes)", () => {
  it("runs a job, forwarding events and returning the result", async () => {
    const engine = pool();
    const { events, done } = run(engine, 7);
    const result = await done;
    expect(events.filter((e) => e.type === "step")).toHaveLength(5);
    expect([...result.image.data]).toEqual([3, 2, 1]);
    await engine.close();
  });

  it("fails only the job whose process aborted natively or threw, then serves the next on a fresh process", async () => {
    const engine = pool();
    expect(await stopReason(run(engine, 1).done)).toMatch(/^crashed: .*signal SIGABRT/);
    expect(await stopReason(run(engine, 2).done)).toMatch(/^crashed: .*exit code 1/);
    expect(await stopReason(run(engine, 6).done)).toBe("failed: the engine refused");
    expect((await run(engine, 7).done).elapsedMs).toBe(100);
    await engine.close();
  });

  it("fails the job of a process killed from outside (kill -9)", async () => {
    const engine = pool();
    await engine.warmUp();
    const { events, done } = run(engine, 5);
    await expect.poll(() => events.length).toBe(1);
    const pid = engine.pids()[0]!;
    process.kill(pid, "SIGKILL");
    expect(await stopReason(done)).toMatch(/^crashed: .*signal SIGKILL/);
    expect(engine.pids()[0]).not.toBe(pid);
    expect((await run(engine, 7).done).elapsedMs).toBe(100);
    await engine.close();
  });

  it("cancels through a message, and replaces a process that ignores it", async () => {
    const engine = pool();
    const controller = new AbortController();
    const cancelled = run(engine, 7, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    expect(await stopReason(cancelled.done)).toMatch(/^cancelled/);

    const stuck = new AbortController();
    const hung = run(engine, 3, { signal: stuck.signal });
    setTimeout(() => stuck.abort(), 50);
    expect(await stopReason(hung.done)).toMatch(/^cancelled/);
    expect((await run(engine, 7).done).elapsedMs).toBe(100);
    await engine.close();
  });

  it("kills a process over its memory ceiling or its time limit, failing that job with a reason", async () => {
    const engine = pool({ maxRssBytes: 400 * 2 ** 20 });
    expect(await stopReason(run(engine, 4).done)).toMatch(/^crashed: .*more memory than this bot allows/);
    expect(await stopReason(run(engine, 5, { timeoutMs: 200 }).done)).toMatch(/^timed_out: /);
    expect((await run(engine, 7).done).elapsedMs).toBe(100);
    await engine.close();
  });

  it("reports an engine that cannot start, with the process's reason", async () => {
    const engine = pool({ weights: "missing" });
    expect(await stopReason(run(engine, 7).done)).toBe("unavailable: VGG19 weights not found at missing");
    await expect(engine.warmUp()).rejects.toThrow(/weights not found/);
    await engine.close();
  });
});
