import path from "node:path";
import {
  Client,
  type ClientOptions,
  Events,
  GatewayIntentBits,
  Partials,
  type RateLimitData,
  ShardClientUtil,
} from "discord.js";
import type { Config } from "../config.js";
import {
  configuredEnginePool,
  createJobRunner,
  type Engine,
  type EngineOptions,
  type JobRunner,
} from "../jobs/index.js";
import { createLogger, type Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";
import { BlobStore, Store } from "../store/index.js";
import type { BotContext, Command } from "./command.js";
import { createInteractionHandler } from "./interactions.js";
import { JobReplies } from "./job-replies.js";
import { prepareFromPresets } from "./prepare-job.js";
import { PresetSubmissionGate } from "./preset-limits.js";
import { PresetCatalog } from "./presets.js";
import { listenForVotes } from "./votes.js";

/**
 * Assembles the bot: discord.js client, store, job runner (with its engine processes), job replies and
 * handlers. Nothing connects until start(); tests swap in a loopback Discord (clientOptions.rest.api) and
 * a bundled engine-host script.
 */

export interface BotOptions {
  readonly clientOptions?: Partial<ClientOptions>;
  readonly log?: Logger;
  /** Defaults to engine processes running the compiled engine-host script. */
  readonly engine?: Engine;
  readonly engineScript?: string | URL;
  /** Engine options every job gets (tests shorten the schedule this way). */
  readonly engineOverrides?: EngineOptions;
  /** The slash commands to answer; the entry point (src/main.ts) hands over commands/index.ts's. */
  readonly commands: readonly Command[];
}

export interface Bot {
  readonly client: Client;
  readonly jobs: JobRunner;
  readonly context: BotContext;
  start(): Promise<void>;
  /** Settles once the engine processes started by start() are ready (warm) or failed to start. */
  engineReady(): Promise<void>;
  /** Shutdown: running jobs get `graceMs` to finish, then go back to the queue for the next start. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Edits of a job's message give up on a rate limit instead of waiting in discord.js's queue: a progress
 * frame is then dropped, and a job's last word is retried by its reply, so frames never pile up.
 */
function rejectMessageEditsOnRateLimit(data: RateLimitData): boolean {
  return data.method.toUpperCase() === "PATCH" && data.route.includes("/messages/");
}

/** Whether this process is the shard Discord sends `guildId`'s events to (always, unsharded). */
function ownsGuild(client: Client, guildId: string | undefined): boolean {
  if (!client.shard) return true;
  const shard = guildId ? ShardClientUtil.shardIdForGuildId(guildId, client.shard.count) : 0;
  return client.shard.ids.includes(shard);
}

/** How long stop() keeps retrying writes a locked or full database held back. */
const STOP_DRAIN_MS = 5000;

export async function createBot(config: Config, options: BotOptions): Promise<Bot> {
  const client = new Client({
    // Reactions are votes; the partials let votes on messages from before a restart (uncached) count.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Reaction, Partials.User],
    ...options.clientOptions,
    rest: {
      ...(config.discordApiUrl && { api: config.discordApiUrl }),
      rejectOnRateLimit: rejectMessageEditsOnRateLimit,
      ...options.clientOptions?.rest,
    },
  });
  const baseLog = options.log ?? createLogger({ level: config.logLevel });
  // In a shard process (the ShardingManager told discord.js which), every line says which shard.
  const log = client.shard ? baseLog.child({ shard: client.shard.ids[0] }) : baseLog;
  const blobs = new BlobStore(path.join(config.dataDir, "blobs"));
  const store = Store.open(config.databaseFile, {
    legacyJobs: { dir: path.join(config.dataDir, "jobs"), blobs },
    log: log.child({ component: "store" }),
  });
  const presets = (await PresetCatalog.load(config.presetsManifest, config.modelsDir)).withStore(store);
  if (presets.presets.length === 0)
    log.warn({ manifest: config.presetsManifest }, "no style presets installed");
  const { jobs, engine } = createJobRunner(config, {
    store,
    blobs,
    prepare: prepareFromPresets(presets),
    log: log.child({ component: "jobs" }),
    engineOptions: {
      // A preview at least as often as the reply may be edited (the first one comes early: see the engine).
      previewEverySeconds: config.progressIntervalMs / 2000,
      previewEverySteps: 0,
      ...options.engineOverrides,
    },
    engine: () =>
      options.engine ??
      configuredEnginePool(config, log, options.engineScript ? { script: options.engineScript } : {}),
    // A shard answers for its own servers' jobs (direct messages come to shard 0), as Discord routes them.
    owns: (job) => ownsGuild(client, job.guildId),
  });
  const replies = new JobReplies({
    client,
    runner: jobs,
    presets,
    store,
    log: log.child({ component: "replies" }),
    progressIntervalMs: config.progressIntervalMs,
    deliveryDeadlineMs: config.deliveryDeadlineMs,
  });
  const presetGate = new PresetSubmissionGate(store, config.presetLimits);
  const context: BotContext = { config, jobs, presets, store, presetGate, log };
  const handleInteraction = createInteractionHandler(options.commands, context);
  client.on(Events.InteractionCreate, (interaction) => void handleInteraction(interaction));
  listenForVotes(client, store, log.child({ component: "votes" }));
  client.once(Events.ClientReady, (ready) => {
    log.info(
      { user: ready.user.tag, guilds: ready.guilds.cache.size, presets: presets.presets.length },
      "bot ready",
    );
    // Jobs a restart interrupted continue, and endings not yet told are told, once Discord can hear us.
    void jobs
      .start()
      .catch((error: unknown) =>
        log.error({ err: loggableError(error) }, "could not take up unfinished jobs"),
      );
  });
  client.on(Events.Error, (error) => log.error({ err: loggableError(error) }, "discord client error"));
  client.on(Events.Warn, (message) => log.warn(message));

  let engineReady = Promise.resolve();
  return {
    client,
    jobs,
    context,
    engineReady: () => engineReady,
    async start() {
      if (!config.discordToken) throw new Error("DISCORD_TOKEN is not set");
      // Load weights while the gateway connects; a missing model is reported, and jobs explain it.
      engineReady =
        engine?.warmUp?.().then(
          (backend) => void log.info({ backend }, "engine ready"),
          (error: unknown) =>
            log.error({ err: loggableError(error) }, "engine not ready; jobs will fail until this is fixed"),
        ) ?? Promise.resolve();
      await client.login(config.discordToken);
    },
    async stop(stopOptions = {}) {
      await jobs.close({ graceMs: stopOptions.graceMs ?? 0 });
      replies.close();
      await client.destroy();
      const unwritten = await store.drain(STOP_DRAIN_MS);
      if (unwritten > 0) log.error({ unwritten }, "the database stayed unwritable; queued writes are lost");
      store.close();
    },
  };
}
