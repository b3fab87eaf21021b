import { type Client, Events } from "discord.js";
import type { Logger } from "../log.js";
import { loggableError } from "../loggable-error.js";

/**
 * Gateway closes discord.js will not reconnect from (a wrong or reset token, intents the application may
 * not use, a bad shard layout): without this the process would run on with no gateway, hear nothing and
 * say nothing. It logs why, in words that say what to fix, and exits non-zero so a supervisor restarts
 * the bot or alerts someone. Closes discord.js recovers from (reconnects, resumes) are left to it.
 */

/** What each close code means for whoever runs the bot (Discord's "Gateway Close Event Codes"). */
export const FATAL_GATEWAY_CLOSES: Readonly<Record<number, string>> = {
  4004: "authentication failed: the bot token is wrong or was reset (Developer Portal → Bot → Reset Token, then update DISCORD_TOKEN)",
  4010: "invalid shard: the shard id or count the bot sent is not valid",
  4011: "sharding required: the bot is in too many servers for a single gateway connection",
  4012: "invalid API version: this discord.js speaks a gateway version Discord no longer accepts; update it",
  4013: "invalid intents: the bot asked for gateway intents that do not exist",
  4014: "disallowed intents: the bot asked for a privileged intent its application is not allowed (Developer Portal → Bot → Privileged Gateway Intents)",
};

/** EX_CONFIG (sysexits.h): what is wrong is the configuration, so restarting alone will not fix it. */
export const EXIT_GATEWAY_FATAL = 78;

export interface FatalGatewayOptions {
  readonly log: Logger;
  /** Shuts the bot down cleanly (engine workers, the database) before the exit. */
  readonly stop: () => Promise<void>;
  /** The exit itself; tests pass a spy. */
  readonly exit?: (code: number) => void;
  /** A stop that takes longer than this is abandoned: the exit must come within seconds. */
  readonly stopTimeoutMs?: number;
}

export function exitOnFatalGatewayClose(client: Client, options: FatalGatewayOptions): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let exiting = false;
  // discord.js emits ShardDisconnect only for the closes it will not recover from.
  client.on(Events.ShardDisconnect, (event, shardId) => {
    if (exiting) return;
    exiting = true;
    const reason = FATAL_GATEWAY_CLOSES[event.code] ?? `gateway closed with code ${event.code}`;
    options.log.fatal(
      { closeCode: event.code, shardId },
      `Discord closed the gateway and the bot cannot reconnect: ${reason}. Exiting.`,
    );
    const stopped = Promise.race([
      options
        .stop()
        .catch((error: unknown) => options.log.error({ err: loggableError(error) }, "clean shutdown failed")),
      new Promise((resolve) => setTimeout(resolve, options.stopTimeoutMs ?? 3000)),
    ]);
    void stopped.finally(() => exit(EXIT_GATEWAY_FATAL));
  });
}
