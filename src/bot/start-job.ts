import type { RepliableInteraction } from "discord.js";
import type { RgbImage } from "../engine/types.js";
import { QueueLimitError } from "../queue/fair-queue.js";
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
    bot.jobs.submit(job, message);
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
  const settings = interaction.guildId ? bot.store.guildSettings(interaction.guildId) : undefined;
  const allowed = settings?.allowedChannelIds ?? [];
  if (allowed.length > 0 && !allowed.includes(interaction.channelId ?? "")) {
    await replyPrivately(
      interaction,
      `I paint in ${allowed.map((id) => `<#${id}>`).join(" ")} on this server — try there!`,
    );
    return true;
  }
  const limit = Math.min(bot.config.queue.perUserLimit, settings?.perUserLimit ?? Number.POSITIVE_INFINITY);
  if (bot.jobs.jobCount(interaction.user.id) < limit) return false;
  await replyPrivately(interaction, limitText(new QueueLimitError("user_limit", limit)));
  return true;
}

function limitText(error: QueueLimitError): string {
  return `Sorry — ${error.message}.`;
}
