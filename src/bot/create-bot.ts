import {
  Client,
  type ClientOptions,
  Events,
  GatewayIntentBits,
  Partials,
  type RateLimitData,
} from "discord.js";
import { commands as defaultCommands } from "../../commands/index.js";
import type { Config } from "../config.js";
import type { StylizeOptions } from "../engine/types.js";
import { createLogger, type Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";
import { EnginePool } from "../queue/engine-pool.js";
import { Store } from "../store/index.js";
import type { BotContext, Command } from "./command.js";
import { createInteractionHandler } from "./interactions.js";
import { JobArchive } from "./job-archive.js";
import { JobMessage } from "./job-message.js";
import { type Engine, JobService } from "./job-service.js";
import { PresetSubmissionGate } from "./preset-limits.js";
import { PresetCatalog } from "./presets.js";
import { listenForVotes } from "./votes.js";

/**
 * Assembles the bot: discord.js client, engine workers, job service and handlers. Nothing connects until
 * start(), and tests swap in a loopback Discord (clientOptions.rest.api) and a bundled worker script.
 */

export interface BotOptions {
  readonly clientOptions?: Partial<ClientOptions>;
  readonly log?: Logger;
  /** Defaults to engine worker threads from the compiled worker script. */
  readonly engine?: Engine & { warmUp?(): Promise<unknown>; close?(): Promise<void> };
  readonly workerScript?: URL | string;
  readonly engineOverrides?: Partial<StylizeOptions>;
  readonly commands?: readonly Command[];
}

export interface Bot {
  readonly client: Client;
  readonly jobs: JobService;
  readonly context: BotContext;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Edits of a job's message give up on a rate limit instead of waiting in discord.js's queue: a progress
 * frame is then dropped and the final result is retried by the job service, so frames never pile up.
 */
function rejectMessageEditsOnRateLimit(data: RateLimitData): boolean {
  return data.method.toUpperCase() === "PATCH" && data.route.includes("/messages/");
}

/** How long stop() keeps retrying writes a locked or full database held back. */
const STOP_DRAIN_MS = 5000;

export async function createBot(config: Config, options: BotOptions = {}): Promise<Bot> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const store = Store.open(config.databaseFile, { log: log.child({ component: "store" }) });
  const presets = (await PresetCatalog.load(config.presetsManifest, config.modelsDir)).withStore(store);
  if (presets.presets.length === 0)
    log.warn({ manifest: config.presetsManifest }, "no style presets installed");
  const engine =
    options.engine ??
    new EnginePool({
      size: config.queue.concurrency,
      script: options.workerScript,
      log: log.child({ component: "engine" }),
      workerData: {
        weightsLocation: config.weightsLocation,
        backend: config.backend,
        logLevel: config.logLevel,
      },
    });
  const archive = new JobArchive(config.dataDir, log.child({ component: "archive" }));
  const jobs = new JobService({
    archive,
    engine,
    presets,
    log: log.child({ component: "jobs" }),
    concurrency: config.queue.concurrency,
    perUserLimit: config.queue.perUserLimit,
    globalCap: config.queue.globalCap,
    progressIntervalMs: config.progressIntervalMs,
    engineOverrides: options.engineOverrides,
    onDelivered: (job, messageId) => {
      if (!job.guildId) return; // votes and leaderboards are per guild
      const record = {
        messageId,
        channelId: job.channelId,
        guildId: job.guildId,
        requesterId: job.userId,
        preset: job.settings.presetId,
        settings: job.settings,
        seed: job.settings.seed,
        createdAt: Date.now(),
      };
      // Queued: a locked or full database delays the record (and the votes on it) but never loses it.
      store
        .enqueue(() => store.recordResult(record))
        .catch((error: unknown) =>
          log.error({ err: loggableError(error), messageId }, "could not record a result"),
        );
    },
  });
  const client = new Client({
    // Reactions are votes; the partials let votes on messages from before a restart (uncached) count.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Reaction, Partials.User],
    ...options.clientOptions,
    rest: {
      rejectOnRateLimit: rejectMessageEditsOnRateLimit,
      ...(config.discordApi ? { api: config.discordApi } : {}),
      ...options.clientOptions?.rest,
    },
  });
  const presetGate = new PresetSubmissionGate(store, config.presetLimits);
  const context: BotContext = { config, jobs, presets, store, presetGate, log };
  const handleInteraction = createInteractionHandler(options.commands ?? defaultCommands, context);
  client.on(Events.InteractionCreate, (interaction) => void handleInteraction(interaction));
  listenForVotes(client, store, log.child({ component: "votes" }));
  client.once(Events.ClientReady, (ready) => {
    log.info(
      { user: ready.user.tag, guilds: ready.guilds.cache.size, presets: presets.presets.length },
      "bot ready",
    );
    // Jobs a restart interrupted continue in their channels.
    void jobs
      .resumeUnfinished((job) =>
        JobMessage.inChannel(client, job.channelId, job.userId, log.child({ jobId: job.id })),
      )
      .then(
        (count) => count > 0 && log.info({ count }, "resumed unfinished jobs"),
        (error: unknown) => log.error({ err: loggableError(error) }, "could not resume unfinished jobs"),
      );
  });
  client.on(Events.Error, (error) => log.error({ err: loggableError(error) }, "discord client error"));
  client.on(Events.Warn, (message) => log.warn(message));

  return {
    client,
    jobs,
    context,
    async start() {
      if (!config.discordToken) throw new Error("DISCORD_TOKEN is not set");
      void archive
        .prune()
        .catch((error: unknown) => log.warn({ err: loggableError(error) }, "could not prune old jobs"));
      // Load weights while the gateway connects; a missing model is reported, and jobs explain it.
      void engine.warmUp?.().then(
        (backend) => log.info({ backend }, "engine ready"),
        (error: unknown) =>
          log.error({ err: loggableError(error) }, "engine not ready; jobs will fail until this is fixed"),
      );
      await client.login(config.discordToken);
    },
    async stop() {
      jobs.close();
      await client.destroy();
      await engine.close?.();
      const unwritten = await store.drain(STOP_DRAIN_MS);
      if (unwritten > 0) log.error({ unwritten }, "the database stayed unwritable; queued writes are lost");
      store.close();
    },
  };
}
