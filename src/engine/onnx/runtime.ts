import type * as Ort from "onnxruntime-common";
import { GraphBuilder } from "./graph-builder.js";

/**
 * onnxruntime-node: an optional dependency whose npm package carries native CPU builds of ONNX Runtime
 * (MLAS kernels with AVX2/AVX-512), loaded only when the engine picks the "onnxruntime" backend. Its types
 * come from onnxruntime-common, the pure-JS API package it re-exports.
 */
export type OnnxRuntime = typeof Ort;
export type OrtSession = Ort.InferenceSession;
export type OrtTensor = Ort.Tensor;

let runtime: Promise<OnnxRuntime> | undefined;

/** Loads onnxruntime-node once and proves the native binding works by running a one-node graph. */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  runtime ??= (async () => {
    const module = (await import("onnxruntime-node" as string)) as OnnxRuntime & { default?: OnnxRuntime };
    const ort = module.InferenceSession ? module : module.default!;
    const g = new GraphBuilder();
    g.output("y", g.op("Neg", [g.input("x", [1])]), [1]);
    const session = await ort.InferenceSession.create(g.encode("smoke-test"), sessionOptions(1, false));
    try {
      const { y } = await session.run({ x: new ort.Tensor("float32", Float32Array.of(2), [1]) });
      if (y?.data[0] !== -2) throw new Error("onnxruntime computed a wrong result in its self-test");
    } finally {
      await session.release();
    }
    return ort;
  })();
  runtime.catch(() => {
    runtime = undefined;
  });
  return runtime;
}

/**
 * One intra-op pool of `threads` threads per session; nothing spins, since other work shares the cores.
 * `arena`: for a session that runs every step (see below); one that runs a few times per scale goes without,
 * so it holds no memory while the steps run.
 */
export function sessionOptions(threads: number, arena: boolean): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
    // No memory pattern: its one planned block per input shape pushed a 512 px job's peak RSS to 2.0 GB.
    // Without the arena, though, every activation (50 MB each at 512 px) is a fresh mmap that the kernel
    // faults in and zeroes on every step: a 512 px step took 6–7× longer, most of it system time
    // (docs/performance.md §5).
    enableCpuMemArena: arena,
    enableMemPattern: false,
    // Idle pool threads otherwise spin after each op, taking a core from the bot, another worker or a
    // neighbour process (docs/performance.md §3).
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}
