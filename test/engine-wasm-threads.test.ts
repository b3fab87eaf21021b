import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The wasm backend on tfjs-backend-wasm's threaded build (src/engine/tfjs/wasm-threads.ts). Backends and their
 * pthread workers are process-global, so each case runs in a fresh Node process on the compiled engine
 * (`npm test` builds first), and checks that the process then exits by itself: a pthread worker left
 * holding the event loop would hang the CLI, the bench and CI.
 */
const repo = path.resolve(import.meta.dirname, "..");
const dist = (file: string) => JSON.stringify(path.join(repo, "dist", file));

/** Longest a child may take to exit once it has printed its result. */
const EXIT_BOUND_MS = 10_000;

interface ChildRun {
  logs: Record<string, unknown>[];
  result: Record<string, unknown> | undefined;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the RESULT line to the process's exit. */
  exitAfterResultMs: number;
}

/**
 * Runs `script` (an ES module body) in a fresh Node. A child still running EXIT_BOUND_MS after its result
 * (or 40 s after its start) is killed, so a hang fails the test instead of outliving it.
 */
function runChild(script: string, env: Record<string, string>, execArgv: string[] = []): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, "--input-type=module", "-e", script], {
      cwd: repo,
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    let resultAt: number | undefined;
    let killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (resultAt === undefined && stdout.includes("RESULT ")) {
        resultAt = performance.now();
        clearTimeout(killer);
        killer = setTimeout(() => child.kill("SIGKILL"), EXIT_BOUND_MS);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(killer);
      const lines = stdout.trim().split("\n");
      const result = lines.find((l) => l.startsWith("RESULT "));
      resolve({
        logs: lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>),
        result: result ? (JSON.parse(result.slice(7)) as Record<string, unknown>) : undefined,
        stderr,
        code,
        signal,
        exitAfterResultMs: resultAt === undefined ? Number.NaN : performance.now() - resultAt,
      });
    });
  });
}

/** Picks the backend through the engine, then a conv2d and its input gradient there and on cpu. */
const CONV_SCRIPT = `
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  await import(${dist("src/engine/tfjs/gradients.js")});
  const { constantConv } = await import(${dist("src/engine/tfjs/fast-grad.js")});
  const { initBackend, releaseBackend } = await import(${dist("src/engine/backend.js")});
  const { createLogger } = await import(${dist("src/log.js")});
  const log = createLogger();
  const choice = await initBackend({ forced: "wasm", threads: Number(process.env.THREADS), log });
  const { PThread } = tf.backend().wasm;

  // Big enough for XNNPACK to split the work across threads.
  function compute() {
    return tf.tidy(() => {
      const x = tf.randomUniform([1, 40, 40, 32], -1, 1, "float32", 1);
      const w = tf.randomUniform([3, 3, 32, 48], -0.2, 0.2, "float32", 2);
      const r = tf.randomUniform([1, 40, 40, 48], -1, 1, "float32", 3);
      const loss = (conv) => (input) => tf.sum(tf.mul(conv(input), r));
      const y = tf.conv2d(x, w, 1, "same");
      const plainGrad = tf.grad(loss((input) => tf.conv2d(input, w, 1, "same")))(x);
      const fast = constantConv(tf.clone(w), "fast");
      const fastGrad = tf.grad(loss((input) => fast.apply(input)))(x);
      fast.dispose();
      return [y, plainGrad, fastGrad].map((t) => Array.from(t.dataSync()));
    });
  }
  const onWasm = compute();
  // After real work: still only the pool's threads (emscripten's spare preloaded workers were dropped).
  const workers = PThread ? { running: PThread.runningWorkers.length, spare: PThread.unusedWorkers.length } : null;
  await tf.setBackend("cpu");
  const onCpu = compute();
  const relErr = onWasm.map((values, i) => {
    let diff = 0, scale = 0;
    values.forEach((v, k) => { diff = Math.max(diff, Math.abs(v - onCpu[i][k])); scale = Math.max(scale, Math.abs(onCpu[i][k])); });
    return diff / scale;
  });
  if (process.env.RELEASE) { releaseBackend(); releaseBackend(); }
  const afterRelease = process.env.RELEASE
    ? await initBackend().then(() => "resolved", (e) => e.message)
    : undefined;
  console.log("RESULT " + JSON.stringify({ choice, workers, relErr, afterRelease }));`;

function expectCleanExit(run: ChildRun): void {
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null }); // SIGKILL: it hung
  // (tfjs prints a "use the node backend" banner on stderr when the cpu backend starts.)
  expect(run.stderr).not.toMatch(/error|exception|abort|warn/i);
  expect(run.exitAfterResultMs).toBeLessThan(EXIT_BOUND_MS);
}

function runningLine(run: ChildRun) {
  return run.logs.find((l) => l.msg === "running on the wasm backend");
}

describe("threaded wasm backend", () => {
  it("runs on 2 threads, matches the cpu backend, and its process exits without releasing it", async () => {
    const run = await runChild(CONV_SCRIPT, { THREADS: "2" });
    expectCleanExit(run);
    expect(run.result!.choice).toEqual({ name: "wasm", skipped: [], threads: 2 });
    expect(runningLine(run)).toMatchObject({ backend: "wasm", threads: 2 });
    // The calling thread plus one pthread worker.
    expect(run.result!.workers).toEqual({ running: 1, spare: 0 });
    // conv2d, its gradient through Conv2DBackpropInput, and the engine's fast gradient (a forward conv).
    const relErr = run.result!.relErr as number[];
    expect(relErr).toHaveLength(3);
    for (const e of relErr) expect(e).toBeLessThan(1e-5);
  });

  it("releaseBackend() is idempotent, ends the engine's use of the backend, and the process exits", async () => {
    const run = await runChild(CONV_SCRIPT, { THREADS: "2", RELEASE: "1" });
    expectCleanExit(run);
    expect(run.result!.afterRelease).toMatch(/released/);
  });

  it("threads: 1 keeps the stock single-threaded build", async () => {
    const run = await runChild(CONV_SCRIPT, { THREADS: "1" });
    expectCleanExit(run);
    expect(run.result!.choice).toEqual({ name: "wasm", skipped: [], threads: 1 });
    expect(runningLine(run)).toMatchObject({ threads: 1 });
    expect(run.result!.workers).toBeNull(); // the stock build has no PThread
  });

  it("falls back to the stock build, saying why, when the threaded one cannot start", async () => {
    // Without SharedArrayBuffer there is no shared WebAssembly memory, hence no threads.
    const run = await runChild(CONV_SCRIPT, { THREADS: "2" }, ["--no-harmony-sharedarraybuffer"]);
    expectCleanExit(run);
    expect(run.logs.find((l) => l.level === 40)).toMatchObject({
      msg: "threaded wasm could not start; using the single-threaded wasm backend",
      reason: "this Node has no shared WebAssembly memory",
    });
    expect(run.result!.choice).toMatchObject({ name: "wasm", threads: 1 });
    for (const e of run.result!.relErr as number[]) expect(e).toBeLessThan(1e-5);
  });

  it("a threaded start that times out leaves no worker behind", async () => {
    const run = await runChild(
      `const { createThreadedWasmBackend } = await import(${dist("src/engine/tfjs/wasm-threads.js")});
       const error = await createThreadedWasmBackend(2, { timeoutMs: 1 }).then(() => "", (e) => e.message);
       console.log("RESULT " + JSON.stringify({ error }));`,
      {},
    );
    expectCleanExit(run);
    expect(run.result!.error).toMatch(/not ready after 1 ms/);
  });
});
