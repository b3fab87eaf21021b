import { MessageFlags, type RepliableInteraction } from "discord.js";

/**
 * Tell only the member what went wrong. A public deferred reply (the "thinking…" placeholder) cannot turn
 * ephemeral, so it is deleted and the message follows up ephemerally instead.
 */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  const message = { content, flags: MessageFlags.Ephemeral as const, allowedMentions: { parse: [] } };
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply(message);
    return;
  }
  if (interaction.deferred && !interaction.ephemeral) await interaction.deleteReply().catch(() => undefined);
  await interaction.followUp(message);
}
