import type { RepliableInteraction } from "discord.js";
import type { JobRecord, JobSettings, Reservation } from "../jobs/index.js";
import type { BotContext } from "./command.js";
import type { ReplyTo } from "./reply-target.js";
import { UserError } from "./user-error.js";

/**
 * Starting a job from an interaction, in two halves around the slow work: first `reserveJob`, before any
 * placeholder, download or decode (the server's channels, then the member's, the server's and the bot's
 * limits, held atomically by the runner), then `submitJob` once the photo is ready. A caller that fails in
 * between releases the reservation. Shared by /stylize and the Re-roll / Stronger / Weaker / HD buttons.
 */

export async function reserveJob(interaction: RepliableInteraction, bot: BotContext): Promise<Reservation> {
  const settings = interaction.guildId ? bot.store.guildSettings(interaction.guildId) : undefined;
  const allowed = settings?.allowedChannelIds ?? [];
  if (allowed.length > 0 && !allowed.includes(interaction.channelId ?? "")) {
    throw new UserError(
      "channel_not_allowed",
      `I paint in ${allowed.map((id) => `<#${id}>`).join(" ")} on this server — try there!`,
    );
  }
  return bot.jobs.reserve(
    { userId: interaction.user.id, guildId: interaction.guildId ?? undefined },
    settings?.perUserLimit,
  );
}

/** Runs `work` (the slow part) on a reservation, giving the reservation back if it throws. */
export async function withReservation<T>(
  bot: BotContext,
  reservation: Reservation,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    bot.jobs.release(reservation);
    throw error;
  }
}

/** Defers the interaction's reply publicly: the job's message from then on, wherever it is stored. */
export async function deferReply(interaction: RepliableInteraction): Promise<ReplyTo> {
  const response = await interaction.deferReply({ withResponse: true });
  return {
    channelId: interaction.channelId ?? "",
    messageId: response.interaction.responseMessageId ?? undefined,
    interaction: {
      applicationId: interaction.applicationId,
      token: interaction.token,
      createdAt: interaction.createdTimestamp,
    },
    attachmentLimit: interaction.attachmentSizeLimit,
  };
}

/** Queues the job on its reservation; `content` (and a painting of the member's own) as PNG files. */
export function submitJob(
  interaction: RepliableInteraction,
  bot: BotContext,
  reservation: Reservation,
  request: {
    settings: JobSettings;
    content: Uint8Array;
    styleImage?: Uint8Array;
    initImage?: Uint8Array;
    parentId?: string;
    replyTo: ReplyTo;
  },
): Promise<JobRecord> {
  return bot.jobs.submit(reservation, {
    userId: interaction.user.id,
    guildId: interaction.guildId ?? undefined,
    ...request,
  });
}
