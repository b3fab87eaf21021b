import type { RepliableInteraction } from "discord.js";
import { UserError } from "./user-error.js";

/** The interaction's guild id; a UserError where there is none (Sapphire's GuildOnly precondition). */
export function guildOf(interaction: RepliableInteraction): string {
  if (interaction.guildId) return interaction.guildId;
  throw new UserError("guild_only", "That only works in a server, where votes and presets live.");
}
