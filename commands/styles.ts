import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from "discord.js";
import type { BotContext } from "../src/bot/command.js";
import { stylesPage } from "../src/bot/styles-browser.js";

export const data = new SlashCommandBuilder()
  .setName("styles")
  .setDescription("Browse the artworks you can paint with");

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await interaction.editReply(await stylesPage(bot.presets, 0, interaction.guildId ?? undefined));
}
