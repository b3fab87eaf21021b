import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StylizeEvent } from "../src/engine/types.js";
import { createLogger } from "../src/log.js";
import {
  EngineCrashedError,
  EnginePool,
  EngineUnavailableError,
  JobCancelledError,
} from "../src/queue/engine-pool.js";

/**
 * The pool's contract with any worker speaking the engine protocol, checked with a scripted stand-in
 * worker: what a crash, a cancel or a failed start does to the job and to the next one. (The real
 * engine worker runs in the bot's end-to-end tests.)
 */

const FAKE_WORKER = `
import { parentPort, workerData } from "node:worker_threads";
if (workerData.weightsLocation === "missing") {
  parentPort.postMessage({ type: "init-failed", message: "VGG19 weights not found at missing" });
} else {
  parentPort.postMessage({ type: "ready", backend: "cpu" });
}
const cancelled = new Set();
parentPort.on("message", async (message) => {
  if (message.type === "cancel") { cancelled.add(message.jobId); return; }
  const { jobId, request } = message;
  const mode = request.seed;
  if (mode === 1) process.exit(3);                      // dies mid-run
  if (mode === 2) throw new Error("boom in the engine"); // uncaught exception
  if (mode === 3) { while (true) {} }                    // never reads messages again
  const { width, height, data } = request.content;
  for (let step = 1; step <= 5; step++) {
    await new Promise((r) => setTimeout(r, 20));
    if (cancelled.has(jobId)) { parentPort.postMessage({ type: "cancelled", jobId }); return; }
    parentPort.postMessage({ type: "event", jobId, event: { type: "step", scale: 0, step, overallStep: step,
      totalSteps: 5, losses: { content: 1, style: 1, tv: 1, total: 3 }, elapsedMs: step * 20, etaMs: 0 } });
  }
  const image = { width, height, data: new Uint8Array(data).map((v) => 255 - v) };
  parentPort.postMessage({ type: "event", jobId, event: { type: "done", image, seed: mode,
    losses: { content: 1, style: 1, tv: 1, total: 3 }, elapsedMs: 100, totalSteps: 5 } }, [image.data.buffer]);
});
`;

let dir: string;
let script: string;
const log = createLogger({ level: "silent" });
const content = { width: 2, height: 1, data: new Uint8Array([0, 10, 20, 30, 40, 50]) };
const request = (seed: number) => ({ content, styles: [{ image: content, weight: 1 }], seed });

function pool(weightsLocation = "ok") {
  return new EnginePool({
    size: 1,
    script,
    log,
    cancelGraceMs: 300,
    workerData: { weightsLocation, backend: "cpu", threads: 1, logLevel: "silent" },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-pool-"));
  script = path.join(dir, "fake-worker.mjs");
  await writeFile(script, FAKE_WORKER);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("EnginePool", () => {
  it("runs a job, forwarding events and returning the final image, and leaves the caller's image intact", async () => {
    const engine = pool();
    const events: StylizeEvent[] = [];
    const done = await engine.run("j1", request(7), { onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === "step")).toHaveLength(5);
    expect([...done.image.data]).toEqual([255, 245, 235, 225, 215, 205]);
    expect([...content.data]).toEqual([0, 10, 20, 30, 40, 50]); // a copy was transferred, not ours
    await engine.close();
  });

  it("fails only the job whose worker crashed, then serves the next job on a fresh worker", async () => {
    const engine = pool();
    await expect(engine.run("j1", request(1), { onEvent: () => {} })).rejects.toThrow(EngineCrashedError);
    await expect(engine.run("j2", request(2), { onEvent: () => {} })).rejects.toThrow(/boom in the engine/);
    const done = await engine.run("j3", request(7), { onEvent: () => {} });
    expect(done.seed).toBe(7);
    await engine.close();
  });

  it("cancels through a message, and replaces a worker that ignores it", async () => {
    const engine = pool();
    const controller = new AbortController();
    const running = engine.run("j1", request(7), {
      onEvent: () => controller.abort(),
      signal: controller.signal,
    });
    await expect(running).rejects.toThrow(JobCancelledError);

    const stuck = new AbortController();
    const hung = engine.run("j2", request(3), { onEvent: () => {}, signal: stuck.signal });
    setTimeout(() => stuck.abort(), 50);
    await expect(hung).rejects.toThrow(JobCancelledError);
    expect((await engine.run("j3", request(7), { onEvent: () => {} })).seed).toBe(7);
    await engine.close();
  });

  it("reports an engine that cannot start, with the worker's reason", async () => {
    const engine = pool("missing");
    await expect(engine.run("j1", request(7), { onEvent: () => {} })).rejects.toThrow(EngineUnavailableError);
    await expect(engine.warmUp()).rejects.toThrow(/weights not found/);
    await engine.close();
  });
});
