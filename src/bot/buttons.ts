import {
  ActionRowBuilder,
  ButtonBuilder,
  type ButtonInteraction,
  ButtonStyle,
  MessageFlags,
} from "discord.js";
import { formatDuration } from "../duration.js";
import type { JobSettings } from "../jobs/index.js";
import { randomSeed } from "../jobs/index.js";
import type { BotContext } from "./command.js";
import { type JobAction, jobButtonId, parseButtonId } from "./custom-ids.js";
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
    const guildId = guildOf(interaction);
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

type FollowUp = Exclude<JobAction, "cancel">;

function nextSettings(action: FollowUp, settings: JobSettings, maxSize: number): JobSettings {
  switch (action) {
    case "reroll":
      return { ...settings, seed: randomSeed() };
    case "stronger":
      return { ...settings, strength: clampStrength(settings.strength + STRENGTH_STEP) };
    case "weaker":
      return { ...settings, strength: clampStrength(settings.strength - STRENGTH_STEP) };
    case "hd":
    case "hdgo":
      // The same settings at twice the size, starting from the picture they liked (see followUpJob).
      return { ...settings, size: Math.min(maxSize, settings.size * 2) };
  }
}

async function followUpJob(
  interaction: ButtonInteraction,
  bot: BotContext,
  action: FollowUp,
  jobId: string,
): Promise<void> {
  const job = await bot.jobs.get(jobId);
  const photo = job && (await bot.jobs.blob(job.contentBlob).catch(() => undefined));
  const painting = job?.styleBlob ? await bot.jobs.blob(job.styleBlob).catch(() => undefined) : undefined;
  if (!job || !photo || (job.styleBlob && !painting)) {
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
  const hd = action === "hd" || action === "hdgo";
  if (hd && settings.size === job.settings.size) {
    throw new UserError("already_hd", `That's already the largest size I make (${settings.size} px).`);
  }
  // HD refines the finished result at the larger size rather than painting the photo again: the same
  // picture, finer, in fewer scales (the engine skips those the result already covers, and starts from it
  // without the seed's noise; see run-job.ts). Without a result (it was deleted) it paints the photo.
  const refined =
    hd && job.resultBlob ? await bot.jobs.blob(job.resultBlob).catch(() => undefined) : undefined;
  if (action === "hd" && (await askToConfirmHd(interaction, bot, job.id, { settings, photo, refined })))
    return;
  const reservation = await reserveJob(interaction, bot);
  await withReservation(bot, reservation, async () => {
    const replyTo = await deferReply(interaction);
    await submitJob(interaction, bot, reservation, {
      settings,
      content: photo,
      styleImage: painting,
      initImage: refined,
      parentId: job.id,
      replyTo,
    });
  });
}

/**
 * HD says its cost before it starts: when the job (queue included) would take longer than the bot's
 * threshold, the member sees the estimate privately with a button to go ahead. True when asked.
 */
async function askToConfirmHd(
  interaction: ButtonInteraction,
  bot: BotContext,
  jobId: string,
  job: { settings: JobSettings; photo: Uint8Array; refined: Uint8Array | undefined },
): Promise<boolean> {
  const { settings, refined } = job;
  const estimate = await bot.jobs.estimate({ settings, content: job.photo, initImage: refined });
  if (estimate.startsInMs + estimate.runMs <= bot.config.hdConfirmMs) return false;
  const queue =
    estimate.startsInMs >= 1000 ? `, after about ${formatDuration(estimate.startsInMs)} in the queue` : "";
  const guess = estimate.measured ? "" : " (a rough guess: nothing has been painted here yet)";
  const what = refined
    ? `HD repaints this picture at ${settings.size} px, starting from it rather than from your photo`
    : `HD paints your photo again at ${settings.size} px`;
  await interaction.reply({
    content: `${what}: about ${formatDuration(estimate.runMs)} of painting${queue}${guess}. Start it?`,
    components: [
      new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder()
          .setCustomId(jobButtonId("hdgo", jobId))
          .setLabel(`Start HD (about ${formatDuration(estimate.startsInMs + estimate.runMs)})`)
          .setStyle(ButtonStyle.Primary),
      ),
    ],
    flags: MessageFlags.Ephemeral,
  });
  return true;
}
