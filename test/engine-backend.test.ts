import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { BACKEND_ORDER, parseBackendName } from "../src/engine/backend.js";

/**
 * Backend choice is process-global, so each case runs in a fresh Node process on the compiled engine
 * (`npm test` builds first). Native TensorFlow cannot be installed offline, so here the chain must fall
 * through tensorflow-gpu and tensorflow to wasm, saying why.
 */
const run = promisify(execFile);
const BACKEND_JS = path.resolve(import.meta.dirname, "../dist/src/engine/backend.js");
const LOG_JS = path.resolve(import.meta.dirname, "../dist/src/log.js");

async function chooseBackend(env: Record<string, string>) {
  const script = `
    const { initBackend, parseBackendName } = await import(${JSON.stringify(BACKEND_JS)});
    const { log } = await import(${JSON.stringify(LOG_JS)});
    const tf = await import("@tensorflow/tfjs-core");
    try {
      const choice = await initBackend({ forced: parseBackendName(process.env.STYLIZE_BACKEND), log });
      const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync();
      console.log("RESULT " + JSON.stringify({ choice, active: tf.getBackend(), sum: Array.from(sum) }));
    } catch (e) { console.log("ERROR " + e.message); }`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: { ...process.env, LOG_LEVEL: "info", ...env },
  });
  const lines = stdout.trim().split("\n");
  const logs = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => l.startsWith("RESULT "));
  const error = lines.find((l) => l.startsWith("ERROR "));
  return { logs, result: result && JSON.parse(result.slice(7)), error: error?.slice(6) };
}

describe("backend selection", () => {
  it("falls back tensorflow-gpu → tensorflow → wasm here, logging why each was skipped", async () => {
    const { logs, result } = await chooseBackend({ STYLIZE_BACKEND: "" });
    expect(result.active).toBe("wasm");
    expect(result.sum).toEqual([4, 6]);
    expect(result.choice.skipped.map((s: { name: string }) => s.name)).toEqual([
      "tensorflow-gpu",
      "tensorflow",
    ]);
    const skipped = logs.filter((l) => l.msg === "backend skipped");
    expect(skipped.map((l) => l.backend)).toEqual(["tensorflow-gpu", "tensorflow"]);
    expect(String(skipped[0]!.reason)).toMatch(/tfjs-node-gpu/);
    expect(logs.some((l) => l.msg === "running on the wasm backend")).toBe(true);
  });

  it("honours STYLIZE_BACKEND=cpu and fails loudly when a forced backend cannot load", async () => {
    const cpu = await chooseBackend({ STYLIZE_BACKEND: "cpu" });
    expect(cpu.result.active).toBe("cpu");
    expect(cpu.result.sum).toEqual([4, 6]);
    const gpu = await chooseBackend({ STYLIZE_BACKEND: "tensorflow-gpu" });
    expect(gpu.error).toMatch(/STYLIZE_BACKEND=tensorflow-gpu cannot be used/);
  });

  it("parses STYLIZE_BACKEND values", () => {
    expect(parseBackendName(undefined)).toBeUndefined();
    expect(parseBackendName("auto")).toBeUndefined();
    for (const name of BACKEND_ORDER) expect(parseBackendName(name)).toBe(name);
    expect(() => parseBackendName("gpu")).toThrow(
      /must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu/,
    );
  });
});
