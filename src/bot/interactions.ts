import type { Interaction } from "discord.js";
import { loggableError } from "../loggable-error.js";
import { StoreUnavailableError } from "../store/index.js";
import { handleButton } from "./buttons.js";
import type { BotContext, Command } from "./command.js";
import { replyPrivately } from "./replies.js";

const SOMETHING_WENT_WRONG = "Sorry — something went wrong on my side. Please try again.";

const STORE_UNAVAILABLE: Record<StoreUnavailableError["reason"], string> = {
  busy: "My database is busy for a moment — please try that again in a minute.",
  full: "I can't save anything right now: my storage is full. The bot's admins can see it in the logs — please try again later.",
  io: "I can't save anything right now: my storage is failing. The bot's admins can see it in the logs — please try again later.",
};

function storeUnavailableText(error: StoreUnavailableError): string {
  return STORE_UNAVAILABLE[error.reason];
}

/**
 * Routes every interaction to its command or button handler. Nothing a member sends may crash the bot:
 * every handler error is logged here and answered with a polite ephemeral message where still possible.
 */
export function createInteractionHandler(commands: readonly Command[], bot: BotContext) {
  const byName = new Map(commands.map((command) => [command.data.name, command]));

  return async function handleInteraction(interaction: Interaction): Promise<void> {
    const log = bot.log.child({ interactionId: interaction.id, userId: interaction.user.id });
    try {
      if (interaction.isChatInputCommand()) {
        const command = byName.get(interaction.commandName);
        if (!command) {
          await replyPrivately(
            interaction,
            "I don't know that command any more — it may have just been removed.",
          );
          return;
        }
        log.debug({ command: interaction.commandName }, "command");
        await command.execute(interaction, bot);
      } else if (interaction.isAutocomplete()) {
        await byName.get(interaction.commandName)?.autocomplete?.(interaction, bot);
      } else if (interaction.isButton()) {
        log.debug({ customId: interaction.customId }, "button");
        await handleButton(interaction, bot);
      }
    } catch (error) {
      const unavailable = StoreUnavailableError.wrap(error);
      const storeDown = unavailable instanceof StoreUnavailableError;
      if (storeDown)
        log.warn({ err: loggableError(error) }, "the database is unavailable; the member was asked to retry");
      else log.error({ err: loggableError(error) }, "interaction handler failed");
      if (interaction.isRepliable()) {
        await replyPrivately(
          interaction,
          storeDown ? storeUnavailableText(unavailable) : SOMETHING_WENT_WRONG,
        ).catch((replyError) =>
          log.warn({ err: loggableError(replyError) }, "could not tell the member about the failure"),
        );
      }
    }
  };
}
