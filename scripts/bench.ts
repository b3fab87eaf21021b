import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, parseBackendName, releaseBackend } from "../src/engine/backend.js";
import { type GradientMode, gradientModeFor } from "../src/engine/fast-grad.js";
import {
  computeTargets,
  disposeTargets,
  type ObjectiveSpec,
  styleTransferObjective,
} from "../src/engine/losses.js";
import { Adam } from "../src/engine/optimizers/adam.js";
import { DEFAULT_CONTENT_LAYERS, DEFAULT_LOSS_WEIGHTS, DEFAULT_STYLE_LAYERS } from "../src/engine/options.js";
import { Vgg19Features } from "../src/engine/vgg19.js";
import { VGG19_CONVS } from "../src/engine/vgg19-spec.js";
import { randomVggWeights, VGG19_CHANNELS } from "../src/engine/weights/random.js";
import { createLogger } from "../src/log.js";

/**
 * `npm run bench [-- --sizes 128,256,512 --steps 3 --baseline plain|torch|none --baseline-max 256]`
 *
 * Times one Gatys optimisation step (VGG19 conv1_1..conv5_1 forward, input gradient, Adam update) on
 * square images, with full-size random VGG19 weights (timing does not depend on their values). Per size
 * it prints ms/step, GFLOP/s (analytic conv FLOPs: forward + input gradient) and peak memory. The
 * baseline is the straightforward tfjs formulation (plain conv2d and transposed matMul gradients), timed
 * in alternation with the engine's own path in the same process, so the ratio is robust to machine load;
 * it is skipped above --baseline-max px, where on slow backends it would take minutes a step.
 * `--baseline torch` compares with the same step in PyTorch instead (scripts/bench/torch_step.py, run with
 * Debian's /usr/bin/python3 and python3-torch on OpenBLAS; see docs/performance.md), one PyTorch step per
 * round in alternation with the engine's.
 */

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}
const sizes = option("sizes", "128,256,512").split(",").map(Number);
const timedSteps = Number(option("steps", "3"));
const baselineKind = option("baseline", "plain");
const baselineMax = Number(option("baseline-max", baselineKind === "torch" ? "4096" : "256"));
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

/** Forward conv FLOPs up to conv5_1 at size×size, times two for the input gradient (no weight gradients). */
function stepGflop(size: number): number {
  let flops = 0;
  for (const conv of VGG19_CONVS.slice(0, VGG19_CONVS.findIndex((c) => c.name === LAST_LAYER) + 1)) {
    const edge = size >> (conv.block - 1);
    flops += 2 * edge * edge * conv.inChannels * conv.outChannels * 9;
  }
  return (2 * flops) / 1e9;
}

function randomImage(size: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([1, size, size, 3], 0, 255, "float32", seed) as tf.Tensor4D;
}

/** A ready-to-step optimiser at one size with one gradient formulation; `close()` frees everything. */
function prepare(size: number, mode: GradientMode) {
  const weights = randomVggWeights({ layers: 13, channels: VGG19_CHANNELS, seed: 1 });
  const net = new Vgg19Features(weights, {
    layers: [...spec.contentLayers, ...spec.styleLayers.map((s) => s.layer)],
    pooling: "avg",
    gradients: mode,
  });
  const content = randomImage(size, 1);
  const style = randomImage(size, 2);
  const targets = computeTargets(net, spec, content, [{ image: style, weight: 1 }]);
  const adam = new Adam(styleTransferObjective(net, spec, targets), content, {
    learningRate: 8,
    averageDecay: 0.9,
  });
  tf.dispose([content, style]);
  return {
    step: () => adam.step(),
    close() {
      adam.dispose();
      disposeTargets(targets);
      net.dispose();
    },
  };
}

/** Something timed in alternation with the engine: one step per call, in ms. */
interface Baseline {
  timeStep(): Promise<number>;
  close(): void;
}

function plainBaseline(size: number): Baseline {
  const runner = prepare(size, "plain");
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
    async timeStep() {
      const run = spawnSync(TORCH_PYTHON, args, { encoding: "utf8" });
      const line = run.stdout.split("\n").find((l) => l.startsWith("{"));
      if (run.status !== 0 || !line) throw new Error(`torch_step.py failed: ${run.stderr.trim()}`);
      return (JSON.parse(line) as { msPerStep: number }).msPerStep;
    },
    close() {},
  };
}

let peakRss = 0;
async function timeStep(runner: ReturnType<typeof prepare>): Promise<number> {
  const t0 = performance.now();
  await runner.step();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return performance.now() - t0;
}

function makeBaseline(size: number, engineMode: GradientMode, torchMissing?: string): Baseline | undefined {
  if (size > baselineMax) return undefined;
  if (baselineKind === "plain" && engineMode !== "plain") return plainBaseline(size);
  if (baselineKind === "torch" && !torchMissing) return torchBaseline(size);
  return undefined;
}

async function main(): Promise<void> {
  const log = createLogger({ level: "warn" });
  const backend = await initBackend({ forced: parseBackendName(process.env.STYLIZE_BACKEND), log });
  const engineMode = gradientModeFor(tf.getBackend());
  const threads =
    backend.threads === undefined ? "" : ` (${backend.threads} thread${backend.threads > 1 ? "s" : ""})`;
  console.log(
    `backend ${backend.name}${threads}, engine gradients "${engineMode}", ${timedSteps} timed steps per size\n`,
  );
  const torchMissing = baselineKind === "torch" ? torchUnavailable() : undefined;
  console.log(torchMissing ?? `baseline: ${baselineKind}`);
  console.log("size  GFLOP/step  engine ms/step  GFLOP/s   baseline ms/step  baseline÷engine  peak RSS MB");
  const results = [];
  for (const size of sizes) {
    const gflop = stepGflop(size);
    const engine = prepare(size, engineMode);
    const baseline = makeBaseline(size, engineMode, torchMissing);
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
      baselineMs: baseline ? Math.round(baselineMs) : undefined,
      ratio: baseline ? +(baselineMs / engineMs).toFixed(2) : undefined,
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
    results.push(row);
    console.log(
      [
        String(size).padEnd(5),
        String(row.gflop).padStart(10),
        String(row.engineMs).padStart(15),
        String(row.gflops).padStart(8),
        String(row.baselineMs ?? "-").padStart(18),
        (row.ratio ? `${row.ratio}×` : "-").padStart(16),
        String(row.peakRssMb).padStart(12),
      ].join(" "),
    );
  }
  console.log(
    `\n${JSON.stringify({ backend: backend.name, threads: backend.threads, engineMode, baseline: baselineKind, results })}`,
  );
  releaseBackend();
}

await main();
