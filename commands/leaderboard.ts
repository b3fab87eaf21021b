import { type ChatInputCommandInteraction, InteractionContextType, SlashCommandBuilder } from "discord.js";
import type { BotContext } from "../src/bot/command.js";
import { guildOf } from "../src/bot/guild-only.js";
import { type Board, leaderboard, type Period } from "../src/bot/rankings.js";

export const data = new SlashCommandBuilder()
  .setName("leaderboard")
  .setDescription("This server's most-voted paintings or styles")
  .setContexts(InteractionContextType.Guild)
  .addStringOption((o) =>
    o
      .setName("board")
      .setDescription("Paintings (default) or styles")
      .addChoices({ name: "results", value: "results" }, { name: "presets", value: "presets" }),
  )
  .addStringOption((o) =>
    o
      .setName("period")
      .setDescription("This week (default), this month or all time")
      .addChoices(
        { name: "week", value: "week" },
        { name: "month", value: "month" },
        { name: "all", value: "all" },
      ),
  );

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const guildId = guildOf(interaction);
  const board = (interaction.options.getString("board") ?? "results") as Board;
  const period = (interaction.options.getString("period") ?? "week") as Period;
  await interaction.deferReply();
  await interaction.editReply(await leaderboard(interaction.client, bot, guildId, board, period));
}
