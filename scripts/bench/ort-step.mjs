/**
 * The research prototype of the onnxruntime backend (see docs/performance.md §3; the engine's own backend is
 * src/engine/onnx/, measured by `npm run bench`). Uses the project's onnxruntime-node, or the one in the
 * folder ORT_DIR names; the graphs come from ort_step_graph.py (needs Debian's python3-onnx, python3-torch):
 *
 *   /usr/bin/python3 scripts/bench/ort_step_graph.py /tmp/ort-models --sizes 128,256
 *   node scripts/bench/ort-step.mjs /tmp/ort-models [--sizes 128,256] [--rounds 3] [--torch]
 *
 * 1. checks the hand-written backward graph against PyTorch autograd (check-64.*.f32),
 * 2. conv throughput with 1 and 2 intra-op threads, alternating,
 * 3. VGG19 forward to conv5_1 and the whole step (loss + input gradient graph, then Adam in JS) per size,
 *    and with --torch, scripts/bench/torch_step.py (OpenBLAS) in alternation, printing the ratio per round.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const ort = createRequire(
  process.env.ORT_DIR ? path.join(process.env.ORT_DIR, "package.json") : import.meta.url,
)("onnxruntime-node");
const args = process.argv.slice(2);
const dir = args[0] ?? "/tmp/ort-models";
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const sizes = opt("sizes", "128,256").split(",").map(Number);
const rounds = Number(opt("rounds", "3"));
const withTorch = args.includes("--torch");

const CONVS = [
  [3, 64],
  [64, 64],
  [64, 128],
  [128, 128],
  [128, 256],
  [256, 256],
  [256, 256],
  [256, 256],
  [256, 512],
  [512, 512],
  [512, 512],
  [512, 512],
  [512, 512],
];
const POOL_AFTER = new Set([1, 3, 7, 11]);
function forwardGflop(size) {
  let flop = 0;
  let hw = size;
  for (const [i, [cin, cout]] of CONVS.entries()) {
    flop += 2 * hw * hw * cin * cout * 9;
    if (POOL_AFTER.has(i)) hw /= 2;
  }
  return flop / 1e9;
}

const session = (file, threads) =>
  ort.InferenceSession.create(path.join(dir, file), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // Idle intra-op threads must not spin: other sessions (and the PyTorch child) share the 2 cores.
    extra: { session: { intra_op: { allow_spinning: process.env.ORT_SPIN ?? "0" } } },
  });
const f32 = (file) => {
  const b = readFileSync(path.join(dir, file));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
async function timeRuns(sess, feeds, n) {
  await sess.run(feeds); // warm-up
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await sess.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)], min: times[0] };
}
const out = (o) => console.log(JSON.stringify(o));

// 1. correctness of the backward-as-ops graph
{
  const sess = await session("step-64.onnx", 2);
  const image = new ort.Tensor("float32", f32("check-64.image.f32"), [1, 3, 64, 64]);
  const res = await sess.run({ image });
  const grad = res[sess.outputNames[1]].data;
  const ref = f32("check-64.grad.f32");
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(grad[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  const loss = res[sess.outputNames[0]].data[0];
  const refLoss = f32("check-64.loss.f32")[0];
  out({
    check: "step-64 vs torch autograd",
    lossRelErr: Math.abs(loss - refLoss) / Math.abs(refLoss),
    gradMaxAbsErrRelToMax: maxAbs / maxRef,
  });
}

// 2. conv throughput, 1 vs 2 threads alternating
for (const [h, c] of [
  [128, 64],
  [64, 128],
  [32, 256],
]) {
  const file = `conv-${h}x${h}x${c}.onnx`;
  const s1 = await session(file, 1);
  const s2 = await session(file, 2);
  const x = new ort.Tensor(
    "float32",
    new Float32Array(c * h * h).map(() => Math.random() - 0.5),
    [1, c, h, h],
  );
  const gflop = (2 * h * h * c * c * 9) / 1e9;
  const best = { 1: 0, 2: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const [threads, s] of [
      [1, s1],
      [2, s2],
    ]) {
      const { min } = await timeRuns(s, { x }, 20);
      best[threads] = Math.max(best[threads], gflop / (min / 1000));
    }
  }
  out({
    op: `conv [1,${c},${h},${h}]*3x3x${c}x${c}`,
    bestGflops1t: +best[1].toFixed(1),
    bestGflops2t: +best[2].toFixed(1),
  });
}

// 3. VGG forward and the whole step, alternating with PyTorch when asked
for (const size of sizes) {
  const fwd = await session(`vgg-fwd-${size}.onnx`, 2);
  const step = await session(`step-${size}.onnx`, 2);
  const n = 3 * size * size;
  const image = new Float32Array(n).map(() => Math.random());
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const fg = forwardGflop(size);
  for (let r = 0; r < rounds; r++) {
    const feeds = { image: new ort.Tensor("float32", image, [1, 3, size, size]) };
    const f = await timeRuns(fwd, feeds, 3);
    // whole step = graph (loss + gradient) + Adam on the image in JS
    const steps = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const res = await step.run({ image: new ort.Tensor("float32", image, [1, 3, size, size]) });
      const g = res[step.outputNames[1]].data;
      const b1 = 0.9;
      const b2 = 0.999;
      const lr = 0.02;
      const t = i + 1;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      for (let k = 0; k < n; k++) {
        m[k] = b1 * m[k] + (1 - b1) * g[k];
        v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
        image[k] -= (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + 1e-8);
      }
      if (i > 0) steps.push(performance.now() - t0); // first is warm-up
    }
    steps.sort((a, b) => a - b);
    const stepMs = steps[Math.floor(steps.length / 2)];
    const row = {
      round: r,
      size,
      ortForwardMs: +f.median.toFixed(1),
      ortForwardGflops: +(fg / (f.median / 1000)).toFixed(1),
      ortStepMs: +stepMs.toFixed(1),
      ortStepGflops: +((2 * fg) / (stepMs / 1000)).toFixed(1),
    };
    if (withTorch) {
      const py = spawnSync(
        "/usr/bin/python3",
        [path.join(here, "torch_step.py"), "--sizes", String(size), "--steps", "3", "--blas", "openblas"],
        { encoding: "utf8" },
      );
      const t = JSON.parse(py.stdout.trim().split("\n").pop());
      row.torchMs = t.msPerStep;
      row.ortVsTorch = +(stepMs / t.msPerStep).toFixed(2);
    }
    out(row);
  }
}
