import type { Interaction } from "discord.js";
import { loggableError } from "../loggable-error.js";
import { StoreUnavailableError } from "../store/index.js";
import { handleButton } from "./buttons.js";
import type { BotContext, Command } from "./command.js";
import { replyPrivately } from "./replies.js";
import { asUserError } from "./user-error.js";

const SOMETHING_WENT_WRONG = "Sorry — something went wrong on my side. Please try again.";

const STORE_UNAVAILABLE: Record<StoreUnavailableError["reason"], string> = {
  busy: "My database is busy for a moment — please try that again in a minute.",
  full: "I can't save anything right now: my storage is full. The bot's admins can see it in the logs — please try again later.",
  io: "I can't save anything right now: my storage is failing. The bot's admins can see it in the logs — please try again later.",
};

/**
 * Routes every interaction to its command or button handler, and is the one place where what goes wrong
 * is answered: a refusal meant for the member (a UserError, an image the checks refused, a job limit) is
 * told to them privately; anything else is logged and answered with a polite apology. Nothing a member
 * sends may crash the bot.
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
            log,
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
      if (!interaction.isRepliable()) {
        log.error({ err: loggableError(error) }, "interaction handler failed");
        return;
      }
      const refusal = asUserError(error);
      const unavailable = StoreUnavailableError.wrap(error);
      let text = SOMETHING_WENT_WRONG;
      if (refusal) {
        log.debug({ refusal: refusal.identifier }, "refused");
        text = refusal.message;
      } else if (unavailable instanceof StoreUnavailableError) {
        // Not a bug, and it passes: the member is asked to retry; the admins see why.
        log.warn({ err: loggableError(error) }, "the database is unavailable; the member was asked to retry");
        text = STORE_UNAVAILABLE[unavailable.reason];
      } else log.error({ err: loggableError(error) }, "interaction handler failed");
      await replyPrivately(interaction, text, log).catch((replyError: unknown) =>
        log.warn({ err: loggableError(replyError) }, "could not tell the member"),
      );
    }
  };
}
