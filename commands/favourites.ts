import {
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  SlashCommandBuilder,
} from "discord.js";
import type { BotContext } from "../src/bot/command.js";
import { guildOf } from "../src/bot/guild-only.js";
import { favouritesPage } from "../src/bot/rankings.js";

export const data = new SlashCommandBuilder()
  .setName("favourites")
  .setDescription("The paintings you voted for in this server")
  .setContexts(InteractionContextType.Guild);

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const guildId = guildOf(interaction);
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await interaction.editReply(await favouritesPage(interaction.client, bot, guildId, interaction.user.id, 0));
}
