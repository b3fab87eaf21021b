import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import {
  BACKEND_ORDER,
  type BackendName,
  MAX_THREADS,
  SIZE_LIMITS,
  type ThreadSetting,
  type WeightsOrigin,
} from "./engine/index.js";
import { defaultModelsDir, vgg19WeightsFile } from "./models/paths.js";

/**
 * The configuration, read once at start from the environment and validated, so a typo fails at boot with
 * a readable message naming the variable instead of mid-job. The only module that reads the environment:
 * everything else (the engine, the logger) is handed its settings. Two parts:
 * - the engine's (loadEngineConfig): backend, threads, weights, models dir, log level; what the CLI and
 *   `npm run models` need, without any of the bot's variables;
 * - the bot's (loadConfig): the engine's part plus Discord, queue, images and storage (`.env` is loaded by
 *   src/main.ts).
 * Every variable is documented in `.env.example` and the README.
 */

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

const snowflake = optionalText.pipe(
  z
    .string()
    .regex(/^\d{17,20}$/, "must be a Discord id (17–20 digits)")
    .optional(),
);

function integer(fallback: number, min: number, max: number) {
  return optionalText
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .pipe(z.number("must be a whole number").int("must be a whole number").min(min).max(max));
}

/** Unset = the embedded mode (no Redis); else a redis:// or rediss:// URL. */
const redisUrl = optionalText.pipe(
  z.url({ protocol: /^rediss?$/, error: "must be a URL like redis://127.0.0.1:6379" }).optional(),
);

/** Unset = undefined; else a whole number in range. */
function optionalInteger(min: number, max: number) {
  return optionalText
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .pipe(z.number("must be a whole number").int("must be a whole number").min(min).max(max).optional());
}

/** Empty or "auto" = let Discord say how many shards the bot needs. */
const shardCount = optionalText.transform((v, ctx): number | "auto" => {
  if (v === undefined || v === "auto") return "auto";
  const count = Number(v);
  if (Number.isInteger(count) && count >= 1 && count <= 1000) return count;
  ctx.addIssue({ code: "custom", message: `must be auto or a whole number 1–1000; got "${v}"` });
  return z.NEVER;
});

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One of `values`; the error lists them and repeats what was given. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `must be one of ${values.join(", ")}; got ${JSON.stringify(issue.input)}`,
  });
}

/** Empty or "auto" = undefined (the fastest backend that loads). */
const backendName = optionalText.pipe(
  oneOf(["auto", ...BACKEND_ORDER])
    .optional()
    .transform((v): BackendName | undefined => (v === "auto" ? undefined : v)),
);

/** Empty = "auto" (the available cores). */
const threadSetting = optionalText.transform((v, ctx): ThreadSetting => {
  if (v === undefined || v === "auto") return "auto";
  const threads = Number(v);
  if (Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS) return threads;
  ctx.addIssue({ code: "custom", message: `must be auto or a whole number 1–${MAX_THREADS}; got "${v}"` });
  return z.NEVER;
});

const logLevel = optionalText.pipe(oneOf(LOG_LEVELS).optional());

const EngineEnvSchema = z.object({
  STYLIZE_BACKEND: backendName,
  STYLIZE_THREADS: threadSetting,
  STYLIZE_WEIGHTS: optionalText,
  STYLIZE_MODELS_DIR: optionalText,
  LOG_LEVEL: logLevel,
});

const BotEnvSchema = EngineEnvSchema.extend({
  DISCORD_TOKEN: optionalText,
  DISCORD_API_URL: optionalText.pipe(z.url("must be a URL like http://proxy:8080/api").optional()),
  DISCORD_APPLICATION_ID: snowflake,
  DEV_GUILD_ID: snowflake,
  STYLIZE_PRESETS_MANIFEST: optionalText,
  STYLIZE_CONCURRENCY: integer(1, 1, 16),
  STYLIZE_PER_USER_LIMIT: integer(2, 1, 50),
  STYLIZE_QUEUE_CAP: integer(30, 1, 10_000),
  STYLIZE_DEFAULT_SIZE: integer(384, SIZE_LIMITS.min, SIZE_LIMITS.max),
  STYLIZE_MAX_SIZE: integer(768, SIZE_LIMITS.min, SIZE_LIMITS.max),
  STYLIZE_MAX_INPUT_MB: integer(20, 1, 500),
  STYLIZE_PROGRESS_INTERVAL_MS: integer(4000, 100, 60_000),
  STYLIZE_JOB_TIMEOUT_MIN: integer(30, 1, 24 * 60),
  STYLIZE_ENGINE_MAX_MEMORY_MB: integer(8192, 256, 1_048_576),
  STYLIZE_DELIVERY_DEADLINE_MIN: integer(15, 1, 24 * 60),
  STYLIZE_SHUTDOWN_GRACE_S: integer(20, 0, 3600),
  STYLIZE_KEEP_JOBS_DAYS: integer(7, 1, 365),
  STYLIZE_HD_CONFIRM_MIN: integer(2, 0, 24 * 60),
  STYLIZE_PRESET_PENDING_PER_MEMBER: integer(3, 1, 100),
  STYLIZE_PRESET_PENDING_PER_SERVER: integer(25, 1, 1000),
  STYLIZE_PRESET_COOLDOWN_S: integer(60, 0, 86_400),
  STYLIZE_PRESET_QUOTA_MB: integer(50, 1, 10_000),
  STYLIZE_DATA_DIR: optionalText,
  STYLIZE_DB: optionalText,
  REDIS_URL: redisUrl,
  STYLIZE_REDIS_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1–64 letters, digits, dots, dashes or underscores")
      .optional(),
  ),
  STYLIZE_WORKER_LOCK_S: integer(30, 2, 3600),
  STYLIZE_GPU: optionalInteger(0, 63),
  STYLIZE_SHARDS: shardCount,
}).refine((env) => env.STYLIZE_DEFAULT_SIZE <= env.STYLIZE_MAX_SIZE, {
  message: "STYLIZE_DEFAULT_SIZE must not exceed STYLIZE_MAX_SIZE",
  path: ["STYLIZE_DEFAULT_SIZE"],
});

/** What the engine is handed, and where models live: shared by the bot, the CLI and `npm run models`. */
export interface EngineConfig {
  /** Undefined = pick the fastest backend that loads. */
  readonly backend: BackendName | undefined;
  /** Threads of the onnxruntime and wasm backends ("auto": the bot divides the cores between its workers). */
  readonly threads: ThreadSetting;
  /** Where `npm run models` put downloaded files (the weights and the preset paintings). */
  readonly modelsDir: string;
  /** Weights handed to loadVggWeights: STYLIZE_WEIGHTS, else the file `npm run models` downloads. */
  readonly weightsLocation: string;
  /** "given" for STYLIZE_WEIGHTS (the user's own file), else "downloaded". */
  readonly weightsOrigin: WeightsOrigin;
  readonly logLevel: LogLevel;
}

export interface Config extends EngineConfig {
  /** Absent in tests of config-only paths; main.ts refuses to start without it. */
  readonly discordToken: string | undefined;
  /** Discord's REST API base (default https://discord.com/api): for an HTTP proxy in front of it. */
  readonly discordApiUrl: string | undefined;
  readonly applicationId: string | undefined;
  /** When set, deploy-commands registers per guild (instant) instead of globally. */
  readonly devGuildId: string | undefined;
  /** The manifest listing built-in style presets. */
  readonly presetsManifest: string;
  readonly queue: {
    /** Engine workers running at once (one per GPU/engine slot). */
    readonly concurrency: number;
    /** Queued + running jobs one member may have. */
    readonly perUserLimit: number;
    /** Queued + running jobs over all members. */
    readonly globalCap: number;
    /** A job running longer than this fails (and its engine process is replaced). */
    readonly jobTimeoutMs: number;
    /** An engine process using more resident memory than this is killed (its job fails). */
    readonly engineMaxRssBytes: number;
    /** At shutdown, how long running jobs may take to finish before they are handed back to the queue. */
    readonly shutdownGraceMs: number;
  };
  /** How long a result (or any job's ending) keeps being retried through a Discord outage. */
  readonly deliveryDeadlineMs: number;
  /** Ended jobs, their photos and results are kept this long for the buttons, then deleted. */
  readonly keepJobsDays: number;
  /** An HD job expected to take longer than this (queue included) asks the member to confirm first. */
  readonly hdConfirmMs: number;
  readonly images: {
    readonly defaultSize: number;
    readonly maxSize: number;
    readonly maxInputBytes: number;
  };
  /** Limits on `/preset add`, checked before the upload is downloaded. */
  readonly presetLimits: PresetLimits;
  /** Minimum time between two edits of one job's reply. */
  readonly progressIntervalMs: number;
  /** Set with REDIS_URL: jobs go through BullMQ on Redis to `npm run worker` hosts instead of running here. */
  readonly fleet: FleetConfig | undefined;
  /** Shard processes of `npm run start:sharded` ("auto": as many as Discord recommends). */
  readonly shards: number | "auto";
  readonly dataDir: string;
  /** The SQLite file holding community presets, results, votes and guild settings. */
  readonly databaseFile: string;
}

export interface FleetConfig {
  readonly redisUrl: string;
  /** Prefix of every Redis key, so several bots (or test runs) can share one Redis. */
  readonly prefix: string;
  /** A worker that stops renewing its job's lock this long is taken for dead and its job runs elsewhere. */
  readonly workerLockMs: number;
  /** The GPU a worker's engine processes use (CUDA_VISIBLE_DEVICES); undefined = the default device. */
  readonly gpu: number | undefined;
}

export interface PresetLimits {
  /** Submissions one member may have waiting for a moderator in a server. */
  readonly pendingPerMember: number;
  /** Submissions waiting for a moderator in one server, from all members. */
  readonly pendingPerServer: number;
  /** Time a member waits between two submissions in a server. */
  readonly cooldownMs: number;
  /** Bytes of stored preset images (painting and thumbnail, every status) one server may hold. */
  readonly quotaBytes: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function parse<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function engineConfig(
  e: z.infer<typeof EngineEnvSchema>,
  cwd: string,
  defaultLogLevel: LogLevel,
): EngineConfig {
  const modelsDir = e.STYLIZE_MODELS_DIR ? path.resolve(cwd, e.STYLIZE_MODELS_DIR) : defaultModelsDir();
  return {
    backend: e.STYLIZE_BACKEND,
    threads: e.STYLIZE_THREADS,
    modelsDir,
    weightsLocation: e.STYLIZE_WEIGHTS ? path.resolve(cwd, e.STYLIZE_WEIGHTS) : vgg19WeightsFile(modelsDir),
    weightsOrigin: e.STYLIZE_WEIGHTS ? "given" : "downloaded",
    logLevel: e.LOG_LEVEL ?? defaultLogLevel,
  };
}

/**
 * The engine's part alone, for the CLI and `npm run models`: the bot's variables are neither needed nor
 * checked. `defaultLogLevel` applies when LOG_LEVEL is unset (the CLI keeps quiet: "warn").
 */
export function loadEngineConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  defaultLogLevel: LogLevel = "info",
): EngineConfig {
  return engineConfig(parse(EngineEnvSchema, env), cwd, defaultLogLevel);
}

/** The bot's whole configuration. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const e = parse(BotEnvSchema, env);
  const dataDir = path.resolve(cwd, e.STYLIZE_DATA_DIR ?? "data");
  return {
    ...engineConfig(e, cwd, "info"),
    discordToken: e.DISCORD_TOKEN,
    discordApiUrl: e.DISCORD_API_URL,
    applicationId: e.DISCORD_APPLICATION_ID,
    devGuildId: e.DEV_GUILD_ID,
    presetsManifest: path.resolve(cwd, e.STYLIZE_PRESETS_MANIFEST ?? "models/paintings.json"),
    queue: {
      concurrency: e.STYLIZE_CONCURRENCY,
      perUserLimit: e.STYLIZE_PER_USER_LIMIT,
      globalCap: e.STYLIZE_QUEUE_CAP,
      jobTimeoutMs: e.STYLIZE_JOB_TIMEOUT_MIN * 60_000,
      engineMaxRssBytes: e.STYLIZE_ENGINE_MAX_MEMORY_MB * 2 ** 20,
      shutdownGraceMs: e.STYLIZE_SHUTDOWN_GRACE_S * 1000,
    },
    deliveryDeadlineMs: e.STYLIZE_DELIVERY_DEADLINE_MIN * 60_000,
    keepJobsDays: e.STYLIZE_KEEP_JOBS_DAYS,
    hdConfirmMs: e.STYLIZE_HD_CONFIRM_MIN * 60_000,
    images: {
      defaultSize: e.STYLIZE_DEFAULT_SIZE,
      maxSize: e.STYLIZE_MAX_SIZE,
      maxInputBytes: e.STYLIZE_MAX_INPUT_MB * 1024 * 1024,
    },
    presetLimits: {
      pendingPerMember: e.STYLIZE_PRESET_PENDING_PER_MEMBER,
      pendingPerServer: e.STYLIZE_PRESET_PENDING_PER_SERVER,
      cooldownMs: e.STYLIZE_PRESET_COOLDOWN_S * 1000,
      quotaBytes: e.STYLIZE_PRESET_QUOTA_MB * 1024 * 1024,
    },
    progressIntervalMs: e.STYLIZE_PROGRESS_INTERVAL_MS,
    fleet: e.REDIS_URL
      ? {
          redisUrl: e.REDIS_URL,
          prefix: e.STYLIZE_REDIS_PREFIX ?? "stylize",
          workerLockMs: e.STYLIZE_WORKER_LOCK_S * 1000,
          gpu: e.STYLIZE_GPU,
        }
      : undefined,
    shards: e.STYLIZE_SHARDS,
    dataDir,
    databaseFile: e.STYLIZE_DB ? path.resolve(cwd, e.STYLIZE_DB) : path.join(dataDir, "stylize.db"),
  };
}

/** Prints `message` to stderr and exits with status 1: for command-line entry points. */
export function exitWithMessage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** For command-line entry points: `load`'s configuration, or exit with status 1 saying what is wrong. */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) exitWithMessage(error.message);
    throw error;
  }
}

/** For the bot's entry points (`npm start`, deploy-commands): read `.env` if present, then the config. */
export function loadConfigOrExit(): Config {
  if (existsSync(".env")) process.loadEnvFile(".env");
  return configOrExit(() => loadConfig());
}
