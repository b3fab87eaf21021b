import { MessageFlags, type RepliableInteraction } from "discord.js";
import type { Logger } from "../log.js";
import { withDiscordRetry } from "./discord-retry.js";

/**
 * Tell only the member something (a refusal, an error). A public deferred reply (the "thinking…"
 * placeholder) cannot turn ephemeral, so it is deleted and the message follows up ephemerally instead.
 * Retried through rate limits and short outages: an answer lost on the way is a member left wondering.
 */
export async function replyPrivately(
  interaction: RepliableInteraction,
  content: string,
  log?: Logger,
): Promise<void> {
  const message = { content, flags: MessageFlags.Ephemeral as const, allowedMentions: { parse: [] } };
  const send = async () => {
    if (!interaction.deferred && !interaction.replied) {
      await interaction.reply(message);
      return;
    }
    if (interaction.deferred && !interaction.ephemeral)
      await interaction.deleteReply().catch(() => undefined);
    await interaction.followUp(message);
  };
  if (!log) return send();
  // The interaction's token lives 15 minutes; a first response must come within 3 s.
  const deadlineMs = interaction.deferred || interaction.replied ? 5 * 60_000 : 2_500;
  await withDiscordRetry(send, { deadlineMs, log, what: "private reply", firstPauseMs: 500 });
}
