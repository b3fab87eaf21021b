import { AttachmentBuilder, type Client, EmbedBuilder } from "discord.js";
import type { ResultRecord } from "../store/index.js";
import { resultImageUrl, resultLink } from "./result-messages.js";

/**
 * Reposts a result that reached the guild's vote threshold into its hall-of-fame channel. The store's
 * claim (taken before calling this) makes sure it happens once, however many votes follow.
 */

/** Discord's CDN links are signed and expire within a day, so the painting itself is re-uploaded. */
const MAX_REPOST_BYTES = 8 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 15_000;

export async function repostToHallOfFame(
  client: Client,
  result: ResultRecord,
  channelId: string,
  votes: number,
): Promise<void> {
  const channel = await client.channels.fetch(channelId);
  if (!channel?.isSendable()) throw new Error(`the hall-of-fame channel ${channelId} can't be posted to`);
  const embed = new EmbedBuilder()
    .setTitle("Hall of fame")
    .setDescription(
      `<@${result.requesterId}>'s painting reached **${votes}** votes — [see it](${resultLink(result)}).`,
    )
    .setFooter({ text: `seed ${result.seed}` });
  const files: AttachmentBuilder[] = [];
  const image = await downloadPainting(client, result);
  if (image) {
    files.push(new AttachmentBuilder(image.data, { name: image.name }));
    embed.setImage(`attachment://${image.name}`);
  }
  await channel.send({ embeds: [embed], files, allowedMentions: { parse: [] } });
}

/** The result's painting, or undefined when the message or its file can no longer be read. */
async function downloadPainting(
  client: Client,
  result: ResultRecord,
): Promise<{ data: Buffer; name: string } | undefined> {
  const url = await resultImageUrl(client, result);
  if (!url) return undefined;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok) return undefined;
    const data = Buffer.from(await response.arrayBuffer());
    if (data.length > MAX_REPOST_BYTES) return undefined;
    const extension = /\.(png|jpe?g|webp|gif)(?:\?|$)/i.exec(new URL(url).pathname)?.[1] ?? "png";
    return { data, name: `hall-of-fame.${extension.toLowerCase()}` };
  } catch {
    return undefined;
  }
}
