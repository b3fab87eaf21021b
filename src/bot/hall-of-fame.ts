import { type Client, EmbedBuilder } from "discord.js";
import type { ResultRecord } from "../store/index.js";
import { resultImageUrl, resultLink } from "./result-messages.js";

/**
 * Reposts a result that reached the guild's vote threshold into its hall-of-fame channel. The store's
 * claim (taken before calling this) makes sure it happens once, however many votes follow.
 */
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
  const image = await resultImageUrl(client, result);
  if (image) embed.setImage(image);
  await channel.send({ embeds: [embed], allowedMentions: { parse: [] } });
}
