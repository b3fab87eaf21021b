import type { RepliableInteraction } from "discord.js";
import { replyPrivately } from "./replies.js";

/** The interaction's guild id, or undefined after telling the member this only works in a server. */
export async function guildOf(interaction: RepliableInteraction): Promise<string | undefined> {
  if (interaction.guildId) return interaction.guildId;
  await replyPrivately(interaction, "That only works in a server, where votes and presets live.");
  return undefined;
}
