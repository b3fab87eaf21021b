/**
 * Conv throughput of tfjs-backend-wasm under Node: the package's stock SIMD backend (1 thread) vs the
 * threaded-SIMD binary loaded by src/engine/tfjs/wasm-threads.ts (the engine's wasm backend) with 1 and 2
 * threads. A benchmark of engine internals, so exempt from the front-door rule (.dependency-cruiser.cjs).
 * All backends live in one process and are run alternately per round, so host noise hits them alike;
 * ratios are per round.
 *
 *   npm run build && node dist/scripts/bench/wasm-conv.js [rounds=5] [iters=10]
 *   BENCH_BACKENDS=wasm,wasm-mt2 node dist/scripts/bench/wasm-conv.js   (first listed = ratio base)
 *
 * Prints one JSON line per (round, backend, op) and a summary line per (backend, op) with the median.
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadStockWasm } from "../../src/engine/backend.js";
import { registerThreadedWasm } from "../../src/engine/tfjs/wasm-threads.js";

interface Op {
  readonly name: string;
  readonly gflop: number;
  readonly run: (t: Record<string, tf.Tensor>) => tf.Tensor;
  readonly make: () => Record<string, tf.Tensor>;
}

function convOp(h: number, c: number, kind: "forward" | "backpropInput"): Op {
  const gflop = (2 * h * h * c * c * 9) / 1e9;
  const shape: [number, number, number, number] = [1, h, h, c];
  return {
    name: `${kind} [1,${h},${h},${c}]*3x3x${c}x${c}`,
    gflop,
    make: () => ({
      x: tf.randomUniform(shape, -1, 1, "float32", 1),
      w: tf.randomUniform([3, 3, c, c], -0.1, 0.1, "float32", 2),
    }),
    run: ({ x, w }) =>
      kind === "forward"
        ? tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same")
        : tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, shape, 1, "same"),
  };
}

const OPS: Op[] = [
  convOp(128, 64, "forward"),
  convOp(64, 128, "forward"),
  convOp(32, 256, "forward"),
  convOp(64, 128, "backpropInput"),
];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const iters = Number(process.argv[3] ?? 10);
  await loadStockWasm();
  // BENCH_BACKENDS=wasm,wasm-mt2 to pick; "wasm-mtN" is the threaded build with N threads (1–8).
  const backends = (process.env.BENCH_BACKENDS ?? "wasm,wasm-mt1,wasm-mt2").split(",");
  const threadCounts = new Map<string, number>([["wasm", 1]]);
  for (const name of backends) {
    if (name.startsWith("wasm-mt")) {
      const { threads } = await registerThreadedWasm({ name, threads: Number(name.slice(7)) });
      threadCounts.set(name, threads);
    }
  }

  const inputs = new Map<string, Record<string, tf.Tensor>[]>();
  const reference: Float32Array[] = [];
  for (const name of backends) {
    if (!(await tf.setBackend(name))) throw new Error(`setBackend(${name}) failed`);
    console.log(JSON.stringify({ backend: name, threads: threadCounts.get(name) }));
    inputs.set(
      name,
      OPS.map((op) => op.make()),
    );
    // Correctness: every backend must give the stock backend's result (float tolerance).
    for (const [i, op] of OPS.entries()) {
      const out = op.run(inputs.get(name)![i]!);
      const values = (await out.data()) as Float32Array;
      out.dispose();
      if (!reference[i]) reference[i] = values;
      else {
        let maxDiff = 0;
        for (let k = 0; k < values.length; k++)
          maxDiff = Math.max(maxDiff, Math.abs(values[k]! - reference[i]![k]!));
        console.log(JSON.stringify({ backend: name, op: op.name, maxAbsDiffVsStock: maxDiff }));
        if (!(maxDiff < 1e-3)) throw new Error(`${name} ${op.name}: results differ by ${maxDiff}`);
      }
    }
  }

  const results = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const name of backends) {
      await tf.setBackend(name);
      for (const [i, op] of OPS.entries()) {
        const t = inputs.get(name)![i]!;
        op.run(t).dispose(); // warm-up (XNNPACK operator creation is cached per shape)
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let k = 0; k < iters; k++) op.run(t).dispose();
        const ms = (performance.now() - t0) / iters;
        const cpuPerWall = process.cpuUsage(c0).user / 1000 / (ms * iters);
        const gflops = op.gflop / (ms / 1000);
        const key = `${name}\t${op.name}`;
        results.set(key, [...(results.get(key) ?? []), gflops]);
        console.log(
          JSON.stringify({
            round: r,
            backend: name,
            op: op.name,
            ms: +ms.toFixed(2),
            gflops: +gflops.toFixed(1),
            cpuPerWall: +cpuPerWall.toFixed(2),
          }),
        );
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const op of OPS) {
    const base = results.get(`${backends[0]}\t${op.name}`)!;
    for (const name of backends) {
      const g = results.get(`${name}\t${op.name}`)!;
      console.log(
        JSON.stringify({
          summary: true,
          backend: name,
          op: op.name,
          medianGflops: +median(g).toFixed(1),
          bestGflops: +Math.max(...g).toFixed(1),
          // per-round ratio to the first backend, then the median of those ratios
          medianRatio: +median(g.map((v, i) => v / base[i]!)).toFixed(2),
        }),
      );
    }
  }
  for (const name of backends) tf.removeBackend(name); // terminates the pthread workers
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
