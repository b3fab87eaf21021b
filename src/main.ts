import { commands } from "../commands/index.js";
import { createBot } from "./bot/create-bot.js";
import { exitOnFatalGatewayClose } from "./bot/gateway-fatal.js";
import { exitWithMessage as fail, loadConfigOrExit } from "./config.js";
import { createLogger } from "./log.js";
import { loggableError } from "./loggable-error.js";

/**
 * `npm start`: read `.env` if present, validate the config, hand the slash commands to the bot, connect,
 * and shut down cleanly on signals.
 */

const config = loadConfigOrExit();
if (!config.discordToken) {
  fail(
    "DISCORD_TOKEN is not set. Copy .env.example to .env and put your bot's token in it " +
      "(Discord Developer Portal → your application → Bot → Reset Token); see the README.",
  );
}

const log = createLogger({ level: config.logLevel });
const bot = await createBot(config, { commands, log }).catch((error: unknown) => {
  log.fatal({ err: loggableError(error) }, "the bot could not be set up");
  return fail(`The bot could not be set up: ${error instanceof Error ? error.message : String(error)}`);
});

// A wrong token or disallowed intents: say so and exit, rather than run on deaf.
exitOnFatalGatewayClose(bot.client, { log, stop: () => bot.stop() });

// A safety net: a stray rejection is a bug to log, never a reason to drop every member's job.
process.on("unhandledRejection", (reason) =>
  log.error({ err: loggableError(reason) }, "unhandled rejection"),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log.info({ signal }, "shutting down");
    void bot.stop({ graceMs: config.queue.shutdownGraceMs }).finally(() => process.exit(0));
  });
}

try {
  await bot.start();
} catch (error) {
  log.fatal({ err: loggableError(error) }, "could not connect to Discord");
  await bot.stop().catch(() => undefined);
  fail(`Could not connect to Discord: ${error instanceof Error ? error.message : String(error)}`);
}
