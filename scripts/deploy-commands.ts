import { REST, Routes } from "discord.js";
import { commands } from "../commands/index.js";
import { exitWithMessage as fail, loadConfigOrExit } from "../src/config.js";

/**
 * `npm run deploy-commands`: registers the slash commands with Discord. With DEV_GUILD_ID set they go to
 * that guild only (instant, for development); without it they are registered globally (production).
 * Registration replaces the whole set, so removed commands disappear too.
 */

const { discordToken, applicationId, devGuildId, discordApiUrl } = loadConfigOrExit();
if (!discordToken || !applicationId) {
  fail("deploy-commands needs DISCORD_TOKEN and DISCORD_APPLICATION_ID (see .env.example).");
}

const body = commands.map((command) => command.data.toJSON());
const rest = new REST(discordApiUrl ? { api: discordApiUrl } : {}).setToken(discordToken);
const route = devGuildId
  ? Routes.applicationGuildCommands(applicationId, devGuildId)
  : Routes.applicationCommands(applicationId);
try {
  const registered = (await rest.put(route, { body })) as unknown[];
  process.stdout.write(
    `Registered ${registered.length} command(s) ${devGuildId ? `in guild ${devGuildId}` : "globally (may take a while to appear)"}: ` +
      `${body.map((c) => `/${c.name}`).join(", ")}\n`,
  );
} catch (error) {
  fail(`Could not register the commands: ${error instanceof Error ? error.message : String(error)}`);
}
