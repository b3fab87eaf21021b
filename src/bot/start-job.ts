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

/** The member's limit, checked before anything is downloaded; true when a reply was sent. */
export async function refuseWhenFull(interaction: RepliableInteraction, bot: BotContext): Promise<boolean> {
  if (bot.jobs.hasRoomFor(interaction.user.id)) return false;
  await replyPrivately(
    interaction,
    limitText(new QueueLimitError("user_limit", bot.config.queue.perUserLimit)),
  );
  return true;
}

function limitText(error: QueueLimitError): string {
  return `Sorry — ${error.message}.`;
}
