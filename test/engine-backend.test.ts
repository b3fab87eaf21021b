import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/**
 * Backend choice is process-global, so each case runs in a fresh Node process on the compiled engine
 * (`npm test` builds first). Native TensorFlow cannot be installed offline, so here the chain must fall
 * through tensorflow-gpu and tensorflow to onnxruntime, saying why, and on to wasm where onnxruntime-node
 * is missing too.
 */
const run = promisify(execFile);
const BACKEND_JS = path.resolve(import.meta.dirname, "../dist/src/engine/backend.js");
const LOG_JS = path.resolve(import.meta.dirname, "../dist/src/log.js");

const WITHOUT_ONNXRUNTIME = path.resolve(import.meta.dirname, "fixtures/without-onnxruntime.mjs");

/** `options` go to initBackend as they are (the engine reads no environment). */
async function chooseBackend(options: { forced?: string; threads?: unknown }, nodeArgs: string[] = []) {
  const script = `
    const { initBackend } = await import(${JSON.stringify(BACKEND_JS)});
    const { createLogger } = await import(${JSON.stringify(LOG_JS)});
    const log = createLogger({ level: "info" });
    const tf = await import("@tensorflow/tfjs-core");
    try {
      const choice = await initBackend({ ...${JSON.stringify(options)}, log });
      const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync();
      console.log("RESULT " + JSON.stringify({ choice, active: tf.getBackend(), sum: Array.from(sum) }));
    } catch (e) { console.log("ERROR " + e.message); }`;
  const { stdout } = await run(process.execPath, [...nodeArgs, "--input-type=module", "-e", script], {
    cwd: path.resolve(import.meta.dirname, ".."),
    // A backend variable in the environment must change nothing: the options above are all that count.
    env: { ...process.env, STYLIZE_BACKEND: "cpu", STYLIZE_THREADS: "bad", LOG_LEVEL: "silent" },
  });
  const lines = stdout.trim().split("\n");
  const logs = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => l.startsWith("RESULT "));
  const error = lines.find((l) => l.startsWith("ERROR "));
  return { logs, result: result && JSON.parse(result.slice(7)), error: error?.slice(6) };
}

describe("backend selection", () => {
  it("falls back tensorflow-gpu → tensorflow → onnxruntime here, logging why each was skipped", async () => {
    const { logs, result } = await chooseBackend({});
    expect(result.choice.name).toBe("onnxruntime");
    expect(result.choice.threads).toBeGreaterThanOrEqual(1);
    expect(result.active).toBe("wasm"); // tfjs keeps only the image and the optimiser's state
    expect(result.sum).toEqual([4, 6]);
    expect(result.choice.skipped.map((s: { name: string }) => s.name)).toEqual([
      "tensorflow-gpu",
      "tensorflow",
    ]);
    const skipped = logs.filter((l) => l.msg === "backend skipped");
    expect(skipped.map((l) => l.backend)).toEqual(["tensorflow-gpu", "tensorflow"]);
    expect(String(skipped[0]!.reason)).toMatch(/tfjs-node-gpu/);
    expect(logs.some((l) => l.msg === "running on the onnxruntime backend")).toBe(true);
  });

  it("falls on to wasm when onnxruntime-node is not installed", async () => {
    const { logs, result } = await chooseBackend({}, ["--import", WITHOUT_ONNXRUNTIME]);
    expect(result.choice.name).toBe("wasm");
    expect(result.active).toBe("wasm");
    expect(result.sum).toEqual([4, 6]);
    const skipped = logs.filter((l) => l.msg === "backend skipped");
    expect(skipped.map((l) => l.backend)).toEqual(["tensorflow-gpu", "tensorflow", "onnxruntime"]);
    expect(String(skipped[2]!.reason)).toMatch(/onnxruntime-node/);
    expect(logs.some((l) => l.msg === "running on the wasm backend")).toBe(true);
  });

  it("runs a forced backend, and fails loudly when a forced backend cannot load", async () => {
    const cpu = await chooseBackend({ forced: "cpu" });
    expect(cpu.result.active).toBe("cpu");
    expect(cpu.result.sum).toEqual([4, 6]);
    const gpu = await chooseBackend({ forced: "tensorflow-gpu" });
    expect(gpu.error).toMatch(/the tensorflow-gpu backend was asked for but cannot be used/);
  });

  it("gives onnxruntime the threads it is told, and refuses a bad thread count", async () => {
    const two = await chooseBackend({ forced: "onnxruntime", threads: 2 });
    expect(two.result.choice.threads).toBe(2);
    for (const threads of [0, "two"]) {
      const bad = await chooseBackend({ forced: "cpu", threads });
      expect(bad.error).toMatch(/threads must be "auto" or a whole number 1–256/);
    }
  });
});
