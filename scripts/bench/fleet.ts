import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import sharp from "sharp";
import { configOrExit, loadEngineConfig } from "../../src/config.js";
import { randomVggWeights, VGG19_CHANNELS } from "../../src/engine/weights/random.js";
import {
  DEFAULT_ENGINE_SCRIPT,
  EnginePool,
  FleetJobRunner,
  type JobRunner,
  LocalJobRunner,
  type PrepareJob,
} from "../../src/jobs/index.js";
import { createLogger } from "../../src/log.js";
import { BlobStore, Store } from "../../src/store/index.js";

/**
 * `npm run bench:fleet [-- --jobs 12 --size 64 --quality fast --threads 1]` (needs Redis: REDIS_URL, else
 * redis://127.0.0.1:6379)
 *
 * Jobs per minute of the same batch of small jobs three ways, in one run: the embedded mode (the bot's
 * own runner and one engine process), and a fleet (the bot side here, BullMQ on Redis) with one and
 * with two `npm run worker` processes (dist/src/worker-main.js), one engine slot each. Every engine
 * process gets `--threads` CPU threads, so two workers use twice the cores of one, as two hosts would.
 * Timed from the first submit to the last result, after every engine has loaded its weights. Weights:
 * STYLIZE_WEIGHTS or the downloaded file; without either, random full-size VGG19 weights (the timing
 * does not depend on their values).
 */

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}
const JOBS = Number(option("jobs", "12"));
const SIZE = Number(option("size", "64"));
const QUALITY = option("quality", "fast") as "fast";
const THREADS = option("threads", "1");
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const WORKER_SCRIPT = fileURLToPath(new URL("../../src/worker-main.js", import.meta.url));

const engineConfig = configOrExit(() => loadEngineConfig(process.env, process.cwd(), "warn"));
const log = createLogger({ level: "warn" });
const dir = await mkdtemp(path.join(tmpdir(), "stylize-bench-fleet-"));
const prefix = `stylize-bench-${process.pid}`;

/** The configured weights, or random full-size ones written as a tfjs folder. */
async function weightsLocation(): Promise<string> {
  if (existsSync(engineConfig.weightsLocation)) return engineConfig.weightsLocation;
  console.log("no downloaded weights: random full-size VGG19 weights (timing does not depend on values)");
  const weights = randomVggWeights({ layers: 16, channels: VGG19_CHANNELS });
  const folder = path.join(dir, "random-vgg19");
  await mkdir(folder, { recursive: true });
  const specs = [];
  const parts: Buffer[] = [];
  for (const [layer, conv] of weights) {
    for (const [role, values, shape] of [
      ["kernel", conv.kernel, conv.kernelShape],
      ["bias", conv.bias, [conv.bias.length]],
    ] as const) {
      parts.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
      specs.push({ name: `${layer}/${role}`, shape, dtype: "float32" });
    }
  }
  await writeFile(path.join(folder, "weights.bin"), Buffer.concat(parts));
  const model = {
    format: "layers-model",
    modelTopology: { class_name: "Model", config: { name: "vgg19", layers: [...weights.keys()] } },
    weightsManifest: [{ paths: ["weights.bin"], weights: specs }],
  };
  await writeFile(path.join(folder, "model.json"), JSON.stringify(model));
  return folder;
}

async function picture(width: number, height: number, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * seed + (i >> 7) * 31) & 0xff;
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

const weights = await weightsLocation();
const photo = await picture(96, 72, 7);
const painting = await picture(96, 96, 13);
const prepare: PrepareJob = async () => ({ styles: [{ image: painting, weight: 1 }] });
const settings = {
  presetId: "bench",
  strength: 0.5,
  quality: QUALITY,
  size: SIZE,
  preserveColors: false,
  seed: 1,
};
const engineEnv = {
  STYLIZE_WEIGHTS: weights,
  STYLIZE_THREADS: THREADS,
  ...(engineConfig.backend && { STYLIZE_BACKEND: engineConfig.backend }),
};

function runnerParts(name: string) {
  const blobs = new BlobStore(path.join(dir, name, "blobs"));
  const store = Store.open(path.join(dir, name, "stylize.db"), {
    legacyJobs: { dir: path.join(dir, name, "jobs"), blobs },
  });
  return {
    store,
    blobs,
    prepare,
    limits: { perUserLimit: JOBS, globalCap: JOBS },
    log,
    engineOptions: {},
    jobTimeoutMs: 30 * 60_000,
    keepJobsMs: 24 * 3600_000,
    refreshWaitingMs: 60_000,
  };
}

/** Seconds from the first submit to the last job's end (every job must end done). */
async function timeBatch(jobs: JobRunner): Promise<number> {
  const ended = new Map<string, string>();
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  jobs.onEvent((jobId, event) => {
    if (event.type !== "done" && event.type !== "stopped") return;
    ended.set(jobId, event.type === "done" ? "done" : `stopped (${event.reason}: ${event.detail ?? ""})`);
    if (ended.size === JOBS) allDone();
  });
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) {
    const owner = { userId: `member-${i % 4}` };
    await jobs.submit(await jobs.reserve(owner), { ...owner, settings, content: photo });
  }
  await finished;
  const seconds = (performance.now() - start) / 1000;
  const failed = [...ended.values()].filter((state) => state !== "done");
  if (failed.length > 0) throw new Error(`jobs did not finish: ${failed.join("; ")}`);
  return seconds;
}

async function embedded(): Promise<number> {
  const engine = new EnginePool({
    size: 1,
    script: DEFAULT_ENGINE_SCRIPT,
    log,
    maxRssBytes: 16 * 2 ** 30,
    cancelGraceMs: 10_000,
    config: { ...engineConfig, weightsLocation: weights, threads: Number(THREADS), logLevel: "warn" },
  });
  const jobs = new LocalJobRunner({ ...runnerParts("embedded"), engine });
  await engine.warmUp();
  await jobs.start();
  try {
    return await timeBatch(jobs);
  } finally {
    await jobs.close();
  }
}

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER_SCRIPT], {
    env: {
      PATH: process.env.PATH,
      ...engineEnv,
      REDIS_URL,
      STYLIZE_REDIS_PREFIX: prefix,
      STYLIZE_CONCURRENCY: "1",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"worker ready"')) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`a worker exited (${code}):\n${output}`)));
  });
}

async function fleet(workerCount: number): Promise<number> {
  const workers = await Promise.all(Array.from({ length: workerCount }, startWorker));
  const jobs = new FleetJobRunner({ ...runnerParts(`fleet-${workerCount}`), redisUrl: REDIS_URL, prefix });
  await jobs.start();
  try {
    return await timeBatch(jobs);
  } finally {
    await jobs.close();
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once("exit", resolve).kill("SIGTERM"))));
  }
}

async function deletePrefix(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
}

try {
  console.log(`${JOBS} jobs of ${SIZE} px, quality ${QUALITY}, ${THREADS} thread(s) per engine process`);
  const rows: [string, number][] = [
    ["embedded (1 engine process)", await embedded()],
    ["fleet, 1 worker", await fleet(1)],
    ["fleet, 2 workers", await fleet(2)],
  ];
  const base = JOBS / rows[0]![1];
  for (const [mode, seconds] of rows) {
    const perMinute = (JOBS / seconds) * 60;
    console.log(
      `${mode.padEnd(30)} ${seconds.toFixed(1).padStart(6)} s  ${perMinute.toFixed(1).padStart(6)} jobs/min  ×${(JOBS / seconds / base).toFixed(2)} embedded`,
    );
  }
} finally {
  await deletePrefix();
  await rm(dir, { recursive: true, force: true });
}
