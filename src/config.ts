import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { parseBackendName } from "./engine/backend.js";
import { SIZE_LIMITS } from "./engine/options.js";
import type { BackendName } from "./engine/types.js";
import { modelsDir as resolveModelsDir } from "./engine/weights/paths.js";

/**
 * The bot's configuration, read once at start from the environment (and `.env`, loaded by main.ts) and
 * validated, so a typo fails at boot with a readable message instead of mid-job. Every variable is
 * documented in `.env.example`.
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

const EnvSchema = z
  .object({
    DISCORD_TOKEN: optionalText,
    DISCORD_APPLICATION_ID: snowflake,
    DEV_GUILD_ID: snowflake,
    DISCORD_API_URL: optionalText.pipe(z.url("must be a URL like https://discord.com/api").optional()),
    STYLIZE_BACKEND: optionalText.transform((v, ctx): BackendName | undefined => {
      try {
        return parseBackendName(v);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
    STYLIZE_WEIGHTS: optionalText,
    STYLIZE_PRESETS_MANIFEST: optionalText,
    STYLIZE_MODELS_DIR: optionalText,
    STYLIZE_CONCURRENCY: integer(1, 1, 16),
    STYLIZE_PER_USER_LIMIT: integer(2, 1, 50),
    STYLIZE_QUEUE_CAP: integer(30, 1, 10_000),
    STYLIZE_DEFAULT_SIZE: integer(384, SIZE_LIMITS.min, SIZE_LIMITS.max),
    STYLIZE_MAX_SIZE: integer(768, SIZE_LIMITS.min, SIZE_LIMITS.max),
    STYLIZE_MAX_INPUT_MB: integer(20, 1, 500),
    STYLIZE_PROGRESS_INTERVAL_MS: integer(4000, 100, 60_000),
    STYLIZE_PRESET_PENDING_PER_MEMBER: integer(3, 1, 100),
    STYLIZE_PRESET_PENDING_PER_SERVER: integer(25, 1, 1000),
    STYLIZE_PRESET_COOLDOWN_S: integer(60, 0, 86_400),
    STYLIZE_PRESET_QUOTA_MB: integer(50, 1, 10_000),
    STYLIZE_DATA_DIR: optionalText,
    STYLIZE_DB: optionalText,
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .optional()
      .or(z.literal("").transform(() => undefined)),
  })
  .refine((env) => env.STYLIZE_DEFAULT_SIZE <= env.STYLIZE_MAX_SIZE, {
    message: "STYLIZE_DEFAULT_SIZE must not exceed STYLIZE_MAX_SIZE",
    path: ["STYLIZE_DEFAULT_SIZE"],
  });

export interface Config {
  /** Absent in tests of config-only paths; main.ts refuses to start without it. */
  readonly discordToken: string | undefined;
  readonly applicationId: string | undefined;
  /** When set, deploy-commands registers per guild (instant) instead of globally. */
  readonly devGuildId: string | undefined;
  /** Discord's REST API base; undefined = discord.js's default (https://discord.com/api). */
  readonly discordApi: string | undefined;
  /** Undefined = pick the fastest backend that loads. */
  readonly backend: BackendName | undefined;
  /** Weights location handed to loadVggWeights; undefined = the engine's default. */
  readonly weightsLocation: string | undefined;
  /** The manifest listing built-in style presets. */
  readonly presetsManifest: string;
  /** Where `npm run models` put downloaded files (preset images are read from here). */
  readonly modelsDir: string;
  readonly queue: {
    /** Engine workers running at once (one per GPU/engine slot). */
    readonly concurrency: number;
    /** Queued + running jobs one member may have. */
    readonly perUserLimit: number;
    /** Queued + running jobs over all members. */
    readonly globalCap: number;
  };
  readonly images: {
    readonly defaultSize: number;
    readonly maxSize: number;
    readonly maxInputBytes: number;
  };
  /** Limits on `/preset add`, checked before the upload is downloaded. */
  readonly presetLimits: PresetLimits;
  /** Minimum time between two edits of one job's reply. */
  readonly progressIntervalMs: number;
  readonly logLevel: string;
  readonly dataDir: string;
  /** The SQLite file holding community presets, results, votes and guild settings. */
  readonly databaseFile: string;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.STYLIZE_DATA_DIR ?? "data");
  return {
    discordToken: e.DISCORD_TOKEN,
    applicationId: e.DISCORD_APPLICATION_ID,
    devGuildId: e.DEV_GUILD_ID,
    discordApi: e.DISCORD_API_URL,
    backend: e.STYLIZE_BACKEND,
    weightsLocation: e.STYLIZE_WEIGHTS ? path.resolve(cwd, e.STYLIZE_WEIGHTS) : undefined,
    presetsManifest: path.resolve(cwd, e.STYLIZE_PRESETS_MANIFEST ?? "models/paintings.json"),
    modelsDir: e.STYLIZE_MODELS_DIR ? path.resolve(cwd, e.STYLIZE_MODELS_DIR) : resolveModelsDir({}),
    queue: {
      concurrency: e.STYLIZE_CONCURRENCY,
      perUserLimit: e.STYLIZE_PER_USER_LIMIT,
      globalCap: e.STYLIZE_QUEUE_CAP,
    },
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
    logLevel: e.LOG_LEVEL ?? "info",
    dataDir,
    databaseFile: e.STYLIZE_DB ? path.resolve(cwd, e.STYLIZE_DB) : path.join(dataDir, "stylize.db"),
  };
}

/** Prints `message` to stderr and exits with status 1: for command-line entry points. */
export function exitWithMessage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** For entry points (`npm start`, deploy-commands): read `.env` if present, then the config, or exit with why. */
export function loadConfigOrExit(): Config {
  if (existsSync(".env")) process.loadEnvFile(".env");
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) exitWithMessage(error.message);
    throw error;
  }
}
