import type { RepliableInteraction } from "discord.js";
import type { RgbImage } from "../engine/index.js";
import { QueueLimitError } from "../queue/fair-queue.js";
import type { GuildSettings } from "../store/index.js";
import type { BotContext } from "./command.js";
import { type Job, type JobSettings, newJobId } from "./job.js";
import { JobMessage } from "./job-message.js";
import { replyPrivately } from "./replies.js";

/**
 * Queue a job for an interaction whose reply is already deferred; the deferred reply becomes the job's
 * message. Shared by /stylize and the Re-roll / Stronger / Weaker / HD buttons.
 */
export async function startJob(
  interaction: RepliableInteraction,
  bot: BotContext,
  request: { settings: JobSettings; content: RgbImage; parentId?: string },
): Promise<Job | undefined> {
  const job: Job = {
    id: newJobId(),
    userId: interaction.user.id,
    channelId: interaction.channelId ?? "",
    guildId: interaction.guildId ?? undefined,
    createdAt: Date.now(),
    ...request,
  };
  const message = JobMessage.forInteraction(interaction, bot.log.child({ jobId: job.id }));
  try {
    // The queue checks the limit again: refuseJobHere ran before a download that may have taken a while.
    bot.jobs.submit(job, message, memberLimit(bot, settingsOf(bot, job.guildId)));
    return job;
  } catch (error) {
    if (!(error instanceof QueueLimitError)) throw error;
    await replyPrivately(interaction, limitText(error));
    return undefined;
  }
}

/**
 * Whether a new job may start here, checked before anything is downloaded: the server's allowed channels
 * and the member's limit (the bot's, or the server's if lower). True when a refusal was sent.
 */
export async function refuseJobHere(interaction: RepliableInteraction, bot: BotContext): Promise<boolean> {
  const settings = settingsOf(bot, interaction.guildId ?? undefined);
  const allowed = settings?.allowedChannelIds ?? [];
  if (allowed.length > 0 && !allowed.includes(interaction.channelId ?? "")) {
    await replyPrivately(
      interaction,
      `I paint in ${allowed.map((id) => `<#${id}>`).join(" ")} on this server — try there!`,
    );
    return true;
  }
  const limit = memberLimit(bot, settings);
  if (bot.jobs.jobCount(interaction.user.id) < limit) return false;
  await replyPrivately(interaction, limitText(new QueueLimitError("user_limit", limit)));
  return true;
}

/** Jobs a member may have queued or running here: the bot's limit, or the server's if lower. */
function memberLimit(bot: BotContext, settings: GuildSettings | undefined): number {
  return Math.min(bot.config.queue.perUserLimit, settings?.perUserLimit ?? Number.POSITIVE_INFINITY);
}

function settingsOf(bot: BotContext, guildId: string | undefined): GuildSettings | undefined {
  return guildId ? bot.store.guildSettings(guildId) : undefined;
}

function limitText(error: QueueLimitError): string {
  return `Sorry — ${error.message}.`;
}
