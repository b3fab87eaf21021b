import type { ButtonInteraction } from "discord.js";
import type { JobSettings } from "../jobs/index.js";
import { randomSeed } from "../jobs/index.js";
import type { BotContext } from "./command.js";
import { type JobAction, parseButtonId } from "./custom-ids.js";
import { guildOf } from "./guild-only.js";
import { clampStrength, STRENGTH_STEP } from "./job.js";
import { favouritesPage } from "./rankings.js";
import { deferReply, reserveJob, submitJob, withReservation } from "./start-job.js";
import { stylesPage } from "./styles-browser.js";
import { UserError } from "./user-error.js";

/**
 * The one handler for every button the bot ever sent. Ids are `action:argument`, so nothing about the
 * message needs to be remembered to route a click; only a job's photo does (kept for recent jobs).
 */
export async function handleButton(interaction: ButtonInteraction, bot: BotContext): Promise<void> {
  const id = parseButtonId(interaction.customId);
  if (!id) {
    throw new UserError(
      "old_button",
      "That button belongs to an older version of this bot — run the command again.",
    );
  }
  if (id.kind === "styles") {
    await interaction.deferUpdate();
    await interaction.editReply(await stylesPage(bot.presets, id.page, interaction.guildId ?? undefined));
    return;
  }
  if (id.kind === "favourites") {
    // The page is the clicker's own favourites in this guild; the ephemeral message is theirs anyway.
    const guildId = await guildOf(interaction);
    if (!guildId) return;
    await interaction.deferUpdate();
    await interaction.editReply(
      await favouritesPage(interaction.client, bot, guildId, interaction.user.id, id.page),
    );
    return;
  }
  if (id.action === "cancel") {
    await cancel(interaction, bot, id.jobId);
    return;
  }
  await followUpJob(interaction, bot, id.action, id.jobId);
}

async function cancel(interaction: ButtonInteraction, bot: BotContext, jobId: string): Promise<void> {
  const outcome = await bot.jobs.cancel(jobId, interaction.user.id);
  switch (outcome) {
    case "cancelled":
      // The job's own message is edited by its reply; just acknowledge the click.
      await interaction.deferUpdate();
      return;
    case "not_owner": {
      const job = await bot.jobs.get(jobId);
      throw new UserError("not_owner", `Only <@${job?.userId}>, who started this job, can cancel it.`);
    }
    default:
      throw new UserError("job_finished", "That job has already finished, so there is nothing to cancel.");
  }
}

function nextSettings(
  action: Exclude<JobAction, "cancel">,
  settings: JobSettings,
  maxSize: number,
): JobSettings {
  switch (action) {
    case "reroll":
      return { ...settings, seed: randomSeed() };
    case "stronger":
      return { ...settings, strength: clampStrength(settings.strength + STRENGTH_STEP) };
    case "weaker":
      return { ...settings, strength: clampStrength(settings.strength - STRENGTH_STEP) };
    case "hd":
      // Same seed and balance, larger and finer: a refined pass of the image they liked.
      return { ...settings, size: Math.min(maxSize, settings.size * 2), quality: "hq" };
  }
}

async function followUpJob(
  interaction: ButtonInteraction,
  bot: BotContext,
  action: Exclude<JobAction, "cancel">,
  jobId: string,
): Promise<void> {
  const job = await bot.jobs.get(jobId);
  const photo = job && (await bot.jobs.blob(job.contentBlob).catch(() => undefined));
  if (!job || !photo) {
    throw new UserError(
      "photo_gone",
      `I no longer have the photo for that result (I keep them ${bot.config.keepJobsDays} days) — run /stylize again.`,
    );
  }
  if (job.userId !== interaction.user.id) {
    throw new UserError(
      "not_owner",
      `Only <@${job.userId}> can re-run their own photo — try /stylize with yours!`,
    );
  }
  const settings = nextSettings(action, job.settings, bot.config.images.maxSize);
  if (action === "hd" && settings.size === job.settings.size && job.settings.quality === "hq") {
    throw new UserError(
      "already_hd",
      `That's already the largest, finest version I make (${settings.size} px, hq).`,
    );
  }
  const reservation = await reserveJob(interaction, bot);
  await withReservation(bot, reservation, async () => {
    const replyTo = await deferReply(interaction);
    await submitJob(interaction, bot, reservation, { settings, content: photo, parentId: job.id, replyTo });
  });
}
