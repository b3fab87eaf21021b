import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { configOrExit, loadEngineConfig } from "../src/config.js";
import { createStyleNetwork } from "../src/engine/create-network.js";
import {
  type BackendChoice,
  DEFAULT_CONTENT_LAYERS,
  DEFAULT_LOSS_WEIGHTS,
  DEFAULT_STYLE_LAYERS,
  initBackend,
  type RgbImage,
  releaseBackend,
} from "../src/engine/index.js";
import type { StyleNetwork } from "../src/engine/network.js";
import type { ObjectiveSpec } from "../src/engine/objective.js";
import { Adam } from "../src/engine/optimizers/adam.js";
import { gaussianNoise } from "../src/engine/random.js";
import { imageToTensor } from "../src/engine/tensor-image.js";
import { gradientModeFor } from "../src/engine/tfjs/fast-grad.js";
import { TfjsNetwork } from "../src/engine/tfjs/tfjs-network.js";
import { VGG19_CONVS } from "../src/engine/vgg19-spec.js";
import { randomVggWeights, VGG19_CHANNELS } from "../src/engine/weights/random.js";
import { createLogger } from "../src/log.js";

/**
 * `npm run bench [-- --sizes 128,256,512 --steps 3 --baseline torch|plain|none --baseline-max N --peak 156]`
 *
 * Times one Gatys optimisation step (VGG19 conv1_1..conv5_1 forward, input gradient, Adam update) on
 * square images, with full-size random VGG19 weights (timing does not depend on their values), on the
 * backend the engine picks (or STYLIZE_BACKEND; STYLIZE_THREADS sets its threads). Per size it prints ms/step, GFLOP/s (analytic conv
 * FLOPs: forward + input gradient), % of the machine's fp32 peak (--peak, GFLOP/s), peak RSS (the
 * engine's and PyTorch's, both getrusage's maximum), and the
 * ratio engine ÷ baseline, the baseline timed in alternation with the engine in the same run so that
 * both see the same machine load.
 *
 * Baselines: `torch` (the default) is the same step in PyTorch (scripts/bench/torch_step.py, run with
 * Debian's /usr/bin/python3 and python3-torch on OpenBLAS; see docs/performance.md), one PyTorch step per
 * round; when PyTorch is absent the bench says so and runs without. `plain` is the straightforward tfjs
 * formulation (plain conv2d and transposed-matMul gradients) in the same process, on tfjs backends; it is
 * skipped above --baseline-max px (default 256), where on slow backends it takes minutes a step.
 *
 * It times the network and the optimiser of one step directly, so it imports engine internals past the
 * front door (src/engine/index.ts): the benchmarks are the one exemption in .dependency-cruiser.cjs.
 */

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}
const sizes = option("sizes", "128,256,512").split(",").map(Number);
const timedSteps = Number(option("steps", "3"));
const baselineKind = option("baseline", "torch");
const baselineMax = Number(option("baseline-max", baselineKind === "torch" ? "4096" : "256"));
/** fp32 peak in GFLOP/s for the "% peak" column: issue 3's figure for this workplace's 2 cores by default; 0 = unknown. */
const peakGflops = Number(option("peak", "156"));
const TORCH_PYTHON = "/usr/bin/python3";
const TORCH_SCRIPT = fileURLToPath(new URL("../../scripts/bench/torch_step.py", import.meta.url));

const spec: ObjectiveSpec = {
  contentWeight: DEFAULT_LOSS_WEIGHTS.content,
  styleWeight: DEFAULT_LOSS_WEIGHTS.style,
  tvWeight: DEFAULT_LOSS_WEIGHTS.tv,
  contentLayers: DEFAULT_CONTENT_LAYERS,
  styleLayers: DEFAULT_STYLE_LAYERS,
};
const LAST_LAYER = "block5_conv1";
const WEIGHTS = randomVggWeights({ layers: 13, channels: VGG19_CHANNELS, seed: 1 });

/** Forward conv FLOPs up to conv5_1 at size×size, times two for the input gradient (no weight gradients). */
function stepGflop(size: number): number {
  let flops = 0;
  for (const conv of VGG19_CONVS.slice(0, VGG19_CONVS.findIndex((c) => c.name === LAST_LAYER) + 1)) {
    const edge = size >> (conv.block - 1);
    flops += 2 * edge * edge * conv.inChannels * conv.outChannels * 9;
  }
  return (2 * flops) / 1e9;
}

function randomImage(size: number, seed: number): RgbImage {
  const noise = gaussianNoise(size * size * 3, seed);
  const data = Uint8Array.from(noise, (v) => Math.min(255, Math.max(0, 128 + 60 * v)));
  return { data, width: size, height: size };
}

/** A ready-to-step optimiser at one size on `network`; `close()` frees everything. */
async function prepare(size: number, network: StyleNetwork) {
  const content = randomImage(size, 1);
  const objective = await network.objective(content, [{ image: randomImage(size, 2), weight: 1 }]);
  const start = imageToTensor(content);
  const adam = new Adam(objective, start, { learningRate: 8, averageDecay: 0.9 });
  start.dispose();
  return {
    step: () => adam.step(),
    close() {
      adam.dispose();
      objective.dispose();
      network.dispose();
    },
  };
}

/** Something timed in alternation with the engine: one step per call, in ms. */
interface Baseline {
  timeStep(): Promise<number>;
  /** Its peak resident memory in MB, when it runs in a process of its own. */
  peakRssMb?: number;
  close(): void;
}

async function plainBaseline(size: number): Promise<Baseline> {
  const runner = await prepare(size, new TfjsNetwork(WEIGHTS, spec, "avg", "plain"));
  return { timeStep: () => timeStep(runner), close: () => runner.close() };
}

/** Why PyTorch cannot run here, or undefined when it can. */
function torchUnavailable(): string | undefined {
  const probe = spawnSync(TORCH_PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status === 0
    ? undefined
    : `PyTorch baseline unavailable: ${TORCH_PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`;
}

/** PyTorch's step from torch_step.py: one warm-up and one timed step per call, in a fresh process. */
function torchBaseline(size: number): Baseline {
  const args = [TORCH_SCRIPT, "--sizes", String(size), "--steps", "1", "--warmup", "1", "--blas", "openblas"];
  return {
    peakRssMb: 0,
    async timeStep() {
      const run = spawnSync(TORCH_PYTHON, args, { encoding: "utf8" });
      const line = run.stdout.split("\n").find((l) => l.startsWith("{"));
      if (run.status !== 0 || !line) throw new Error(`torch_step.py failed: ${run.stderr.trim()}`);
      const result = JSON.parse(line) as { msPerStep: number; peakRssMb: number };
      this.peakRssMb = Math.max(this.peakRssMb ?? 0, result.peakRssMb);
      return result.msPerStep;
    },
    close() {},
  };
}

async function timeStep(runner: Awaited<ReturnType<typeof prepare>>): Promise<number> {
  const t0 = performance.now();
  await runner.step();
  return performance.now() - t0;
}

/**
 * The process's peak resident memory so far (getrusage's ru_maxrss, as torch_step.py reports PyTorch's),
 * in MB. Sizes run smallest first, so after a size it is that size's peak.
 */
function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Why the plain baseline cannot run on this backend, or undefined when it can. */
function plainUnavailable(backend: BackendChoice): string | undefined {
  if (backend.name === "onnxruntime")
    return "the plain baseline is a tfjs formulation: none on onnxruntime (STYLIZE_BACKEND=wasm to compare)";
  if (gradientModeFor(tf.getBackend()) === "plain")
    return `the engine already uses the plain formulation on ${backend.name}: no plain baseline`;
  return undefined;
}

/** `unavailable`: why the chosen baseline cannot run here (then there is none). */
function makeBaseline(size: number, unavailable?: string): Promise<Baseline> | Baseline | undefined {
  if (size > baselineMax || unavailable) return undefined;
  if (baselineKind === "plain") return plainBaseline(size);
  if (baselineKind === "torch") return torchBaseline(size);
  return undefined;
}

async function main(): Promise<void> {
  const log = createLogger({ level: "warn" });
  const config = configOrExit(() => loadEngineConfig());
  const backend = await initBackend({ forced: config.backend, threads: config.threads, log });
  const threads =
    backend.threads === undefined ? "" : ` (${backend.threads} thread${backend.threads > 1 ? "s" : ""})`;
  console.log(
    `backend ${backend.name}${threads}, ${timedSteps} timed steps per size, fp32 peak ${peakGflops > 0 ? `${peakGflops} GFLOP/s` : "not given"}\n`,
  );
  const unavailable =
    baselineKind === "torch"
      ? torchUnavailable()
      : baselineKind === "plain"
        ? plainUnavailable(backend)
        : undefined;
  console.log(unavailable ?? `baseline: ${baselineKind}`);
  console.log(
    "size  GFLOP/step  engine ms/step  GFLOP/s  % peak  baseline ms/step  engine÷baseline  peak RSS MB  baseline peak RSS MB",
  );
  const results = [];
  for (const size of sizes) {
    const gflop = stepGflop(size);
    const engine = await prepare(size, await createStyleNetwork(backend, WEIGHTS, spec, "avg"));
    const baseline = await makeBaseline(size, unavailable);
    // Warm-up: first steps compile kernels and grow memory.
    await engine.step();
    if (baseline) await baseline.timeStep();
    // Alternate so that both see the same machine load.
    let engineMs = 0;
    let baselineMs = 0;
    for (let i = 0; i < timedSteps; i++) {
      engineMs += await timeStep(engine);
      if (baseline) baselineMs += await baseline.timeStep();
    }
    engineMs /= timedSteps;
    baselineMs /= timedSteps;
    engine.close();
    baseline?.close();
    const row = {
      size,
      gflop: +gflop.toFixed(1),
      engineMs: Math.round(engineMs),
      gflops: +(gflop / (engineMs / 1000)).toFixed(1),
      percentOfPeak: peakGflops > 0 ? Math.round((100 * gflop) / (engineMs / 1000) / peakGflops) : undefined,
      baselineMs: baseline ? Math.round(baselineMs) : undefined,
      ratio: baseline ? +(engineMs / baselineMs).toFixed(2) : undefined,
      peakRssMb: peakRssMb(),
      baselinePeakRssMb: baseline?.peakRssMb,
    };
    results.push(row);
    console.log(
      [
        String(size).padEnd(5),
        String(row.gflop).padStart(10),
        String(row.engineMs).padStart(15),
        String(row.gflops).padStart(8),
        (row.percentOfPeak === undefined ? "-" : `${row.percentOfPeak}%`).padStart(7),
        String(row.baselineMs ?? "-").padStart(17),
        (row.ratio ? `${row.ratio}×` : "-").padStart(16),
        String(row.peakRssMb).padStart(12),
        String(row.baselinePeakRssMb ?? "-").padStart(21),
      ].join(" "),
    );
  }
  console.log(
    `\n${JSON.stringify({ backend: backend.name, threads: backend.threads, baseline: baselineKind, peakGflops, results })}`,
  );
  releaseBackend();
}

await main();
