import {
  type ChatInputCommandInteraction,
  EmbedBuilder,
  MessageFlags,
  SlashCommandBuilder,
} from "discord.js";
import type { BotContext } from "../src/bot/command.js";

export const data = new SlashCommandBuilder()
  .setName("help")
  .setDescription("What this bot does and how to use it");

export async function execute(interaction: ChatInputCommandInteraction, bot: BotContext): Promise<void> {
  const { images, queue } = bot.config;
  const embed = new EmbedBuilder()
    .setTitle("Stylize — paint your photos like the masters")
    .setDescription(
      [
        "I repaint a photo in the style of a famous artwork with neural style transfer (Gatys et al.).",
        "",
        "**/stylize** `image` `style` — attach a photo and pick an artwork as you type. Optional:",
        "• `strength` subtle / balanced / strong — how much the painting takes over",
        `• \`size\` — long edge in pixels (default ${images.defaultSize}, at most ${images.maxSize})`,
        "• `preserve_colors` — keep your photo's colours, take only the brushwork",
        "• `seed` — repeat a result exactly (every result shows its seed)",
        "",
        "The reply shows your place in the queue, then the painting emerging, then the result with a timelapse.",
        "Buttons: **Cancel** (yours only), **Re-roll** (new seed), **Stronger** / **Weaker**, **HD** (your result refined at twice the size).",
        "",
        "**/styles** — browse the artworks · **/queue** — your jobs and the queue",
        "React with the server's vote emoji (⭐ unless changed) on a painting you like: **/leaderboard** shows the",
        "most-voted paintings and styles of the week, month or all time; **/favourites** the ones you voted for.",
        "**/preset add** — submit a painting as a new style for this server (a moderator approves it);",
        "moderators use **/preset approve / reject / rename / remove**, admins **/settings**.",
        `Each member can have ${queue.perUserLimit} job${queue.perUserLimit === 1 ? "" : "s"} queued or running; members take turns.`,
        `Your photo is only used for your jobs; it is kept ${bot.config.keepJobsDays} days so the buttons keep working, then deleted.`,
      ].join("\n"),
    );
  await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
}
