import { fileURLToPath } from "node:url";
import { ShardingManager } from "discord.js";
import { exitWithMessage as fail, loadConfigOrExit } from "./config.js";
import { createLogger } from "./log.js";
import { loggableError } from "./loggable-error.js";

/**
 * `npm run start:sharded`: the bot as several shard processes (discord.js's ShardingManager), each one
 * `src/main.ts` with Discord's share of the servers, all on this host's SQLite store. STYLIZE_SHARDS
 * says how many ("auto": as Discord recommends). A shard that dies is started again; the others carry on.
 * Each shard answers its own servers' jobs; with REDIS_URL they share the limits, the queue and the
 * workers, without it each shard runs its own engine processes and limits.
 */

const config = loadConfigOrExit();
if (!config.discordToken) fail("DISCORD_TOKEN is not set (see the README).");
const log = createLogger({ level: config.logLevel }).child({ component: "shards" });

const manager = new ShardingManager(fileURLToPath(new URL("./main.js", import.meta.url)), {
  token: config.discordToken,
  totalShards: config.shards,
  respawn: true,
  mode: "process",
});
manager.on("shardCreate", (shard) => {
  shard.on("spawn", (child) =>
    log.info({ shard: shard.id, pid: "pid" in child ? child.pid : undefined }, "shard started"),
  );
  shard.on("death", () => log.warn({ shard: shard.id }, "shard process ended; it is started again"));
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "stopping the shards");
    manager.respawn = false;
    const exits = [...manager.shards.values()].map(
      (shard) =>
        new Promise<void>((resolve) => {
          const child = shard.process;
          if (!child || child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill(signal);
        }),
    );
    void Promise.all(exits).finally(() => process.exit(0));
  });
}

try {
  // Discord lets a bot identify one shard per 5 s: spawn() spaces them so.
  await manager.spawn({ timeout: 120_000 });
  log.info({ shards: manager.totalShards }, "all shards ready");
} catch (error) {
  log.fatal({ err: loggableError(error) }, "the shards could not start");
  fail(`The shards could not start: ${error instanceof Error ? error.message : String(error)}`);
}
