import {
  type ChatInputCommandInteraction,
  EmbedBuilder,
  MessageFlags,
  SlashCommandBuilder,
} from "discord.js";
import type { BotContext } from "../src/bot/command.js";
import { progressBar } from "../src/bot/views.js";

export const data = new SlashCommandBuilder()
  .setName("queue")
  .setDescription("Your jobs and how busy the queue is");

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const status = bot.jobs.status(interaction.user.id);
  const lines = status.jobs.map(({ job, position, progress }) => {
    const style = bot.presets.get(job.settings.presetId, job.guildId)?.title ?? job.settings.presetId;
    if (position > 0) return `• **#${position}** waiting — ${style} (job ${job.id})`;
    const bar = progress ? ` \`${progressBar(progress.overallStep / progress.totalSteps)}\`` : "";
    return `• running — ${style}${bar} (job ${job.id})`;
  });
  const rate = status.stepsPerSecond;
  const embed = new EmbedBuilder()
    .setTitle("Queue")
    .setDescription(
      [
        lines.length > 0 ? lines.join("\n") : "You have no jobs queued or running.",
        "",
        `${status.running} running, ${status.waiting} waiting · ${bot.config.queue.concurrency} engine slot(s)`,
        rate === undefined
          ? "Throughput: not measured yet"
          : `Throughput: ${rate.toFixed(1)} optimisation steps/s`,
      ].join("\n"),
    );
  await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
}
