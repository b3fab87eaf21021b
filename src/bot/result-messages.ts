import { type Client, EmbedBuilder } from "discord.js";
import { UPLOADED_STYLE } from "../jobs/index.js";
import { parseCommunityKey, type ResultRecord } from "../store/index.js";
import type { BotContext } from "./command.js";
import { RESULT_BASENAME } from "./views.js";

/** How results (delivered paintings) are shown again: in leaderboards, favourites and the hall of fame. */

export function resultLink(result: ResultRecord): string {
  return `https://discord.com/channels/${result.guildId}/${result.channelId}/${result.messageId}`;
}

/**
 * The painting attached to the result message, if the message can still be read. Fetched each time rather
 * than stored: Discord's attachment links are signed and expire.
 */
export async function resultImageUrl(client: Client, result: ResultRecord): Promise<string | undefined> {
  try {
    const channel = await client.channels.fetch(result.channelId);
    if (!channel?.isTextBased()) return undefined;
    const message = await channel.messages.fetch(result.messageId);
    const attachments = [...message.attachments.values()];
    return (attachments.find((a) => a.name.startsWith(`${RESULT_BASENAME}-`)) ?? attachments[0])?.url;
  } catch {
    return undefined; // deleted, or no access any more: shown without a thumbnail
  }
}

/** A preset's title; a community preset removed since is named as such. */
export function presetLabel(bot: Pick<BotContext, "presets">, key: string, guildId: string): string {
  const preset = bot.presets.get(key, guildId);
  if (preset) return preset.title;
  if (key === UPLOADED_STYLE) return "a member's own painting";
  return parseCommunityKey(key) === undefined ? key : "a removed community style";
}

/** One result as an embed: who made it, with which style, a link to it and its thumbnail. */
export async function resultEmbed(
  client: Client,
  bot: Pick<BotContext, "presets">,
  result: ResultRecord & { votes: number },
  title: string,
): Promise<EmbedBuilder> {
  const embed = new EmbedBuilder()
    .setTitle(title)
    .setURL(resultLink(result))
    .setDescription(
      `<@${result.requesterId}> · ${presetLabel(bot, result.preset, result.guildId)} · ${result.votes} vote${result.votes === 1 ? "" : "s"} · <t:${Math.floor(result.createdAt / 1000)}:R>`,
    )
    .setFooter({ text: `seed ${result.seed}` });
  const image = await resultImageUrl(client, result);
  if (image) embed.setThumbnail(image);
  return embed;
}
