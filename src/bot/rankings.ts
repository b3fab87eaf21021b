import { AttachmentBuilder, type Client, EmbedBuilder } from "discord.js";
import type { BotContext } from "./command.js";
import { favouritesPageId } from "./custom-ids.js";
import { clampPage, pageButtons } from "./paging.js";
import { presetLabel, resultEmbed } from "./result-messages.js";

/** /leaderboard and /favourites: the guild's best results and presets, and a member's starred results. */

export const PERIODS = { week: 7, month: 30, all: undefined } as const;
export type Period = keyof typeof PERIODS;
export type Board = "results" | "presets";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Discord shows at most 10 embeds per message; one entry is one embed (with its thumbnail). */
export const LEADERBOARD_SIZE = 10;
export const FAVOURITES_PER_PAGE = 5;

/** Start (ms) of the period ending now; 0 for all time. */
export function periodStart(period: Period, now = Date.now()): number {
  const days = PERIODS[period];
  return days === undefined ? 0 : now - days * DAY_MS;
}

const PERIOD_TEXT: Record<Period, string> = { week: "this week", month: "this month", all: "of all time" };

export async function leaderboard(
  client: Client,
  bot: BotContext,
  guildId: string,
  board: Board,
  period: Period,
) {
  const since = periodStart(period);
  const emoji = bot.store.guildSettings(guildId).voteEmoji;
  const files: AttachmentBuilder[] = [];
  let embeds: EmbedBuilder[];
  if (board === "results") {
    const top = bot.store.topResults(guildId, since, LEADERBOARD_SIZE);
    embeds = await Promise.all(
      top.map((result, index) =>
        resultEmbed(client, bot, result, `#${index + 1} · ${result.votes} ${emoji}`),
      ),
    );
  } else {
    const top = bot.store.topPresets(guildId, since, LEADERBOARD_SIZE);
    embeds = await Promise.all(
      top.map(async (entry, index) => {
        const embed = new EmbedBuilder()
          .setTitle(`#${index + 1} · ${presetLabel(bot, entry.preset, guildId)}`)
          .setDescription(
            `${entry.votes} ${emoji} · used ${entry.uses}× ${PERIOD_TEXT[period]} · \`/stylize style:${entry.preset}\``,
          );
        const preset = bot.presets.get(entry.preset, guildId);
        const thumbnail = preset && (await bot.presets.thumbnail(preset).catch(() => undefined));
        if (thumbnail) {
          const name = `preset-${index + 1}.jpg`;
          files.push(new AttachmentBuilder(thumbnail, { name }));
          embed.setThumbnail(`attachment://${name}`);
        }
        return embed;
      }),
    );
  }
  const heading = `**Top ${board} ${PERIOD_TEXT[period]}**`;
  return {
    content:
      embeds.length > 0
        ? heading
        : `${heading}\nNothing yet — react with ${emoji} on a painting you like to vote for it!`,
    embeds,
    files,
    allowedMentions: { parse: [] },
  };
}

export async function favouritesPage(
  client: Client,
  bot: BotContext,
  guildId: string,
  userId: string,
  requestedPage: number,
) {
  const { total } = bot.store.favourites(userId, guildId, 0, 0);
  const pages = Math.max(1, Math.ceil(total / FAVOURITES_PER_PAGE));
  const page = clampPage(requestedPage, pages);
  const { results } = bot.store.favourites(userId, guildId, page * FAVOURITES_PER_PAGE, FAVOURITES_PER_PAGE);
  const embeds = await Promise.all(
    results.map((result, index) =>
      resultEmbed(client, bot, result, `#${page * FAVOURITES_PER_PAGE + index + 1}`),
    ),
  );
  const emoji = bot.store.guildSettings(guildId).voteEmoji;
  return {
    content:
      total === 0
        ? `You haven't voted for any painting here yet — react with ${emoji} on one you like.`
        : `**Your favourites** (${total})`,
    embeds,
    files: [],
    components: total > FAVOURITES_PER_PAGE ? [pageButtons(page, pages, favouritesPageId)] : [],
    allowedMentions: { parse: [] },
  };
}
