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
  const status = await bot.jobs.status(interaction.user.id);
  const lines = status.jobs.map(({ job, position, fraction }) => {
    const style = bot.presets.get(job.settings.presetId, job.guildId)?.title ?? job.settings.presetId;
    if (position > 0) return `• **#${position}** waiting — ${style} (job ${job.id})`;
    const bar = fraction === undefined ? "" : ` \`${progressBar(fraction)}\``;
    return `• painting — ${style}${bar} (job ${job.id})`;
  });
  const speed = status.megapixelsPerMinute;
  const embed = new EmbedBuilder()
    .setTitle("Queue")
    .setDescription(
      [
        lines.length > 0 ? lines.join("\n") : "You have no jobs queued or running.",
        "",
        `${status.running} painting, ${status.waiting} waiting · ${status.engineSlots} painting engine${status.engineSlots === 1 ? "" : "s"}`,
        speed === undefined
          ? "Speed: not measured yet"
          : `Speed: about ${speed.toFixed(2)} megapixels of finished painting per minute`,
        ...(status.fleet
          ? [
              `Workers: ${status.fleet.workers} alive · ${status.fleet.jobsPerMinute.toFixed(1)} jobs finished per minute lately`,
            ]
          : []),
      ].join("\n"),
    );
  await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
}
