import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  type MessageActionRowComponentBuilder,
} from "discord.js";

/** Previous · n / m · Next buttons for a paged message; `pageId` makes each page's stateless custom id. */
export function pageButtons(
  page: number,
  pages: number,
  pageId: (page: number) => string,
): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(pageId(page - 1))
      .setLabel("Previous")
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(page === 0),
    new ButtonBuilder()
      .setCustomId(`${pageId(page)}:current`)
      .setLabel(`${page + 1} / ${pages}`)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(true),
    new ButtonBuilder()
      .setCustomId(pageId(page + 1))
      .setLabel("Next")
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(page >= pages - 1),
  );
}

/** The page actually shown for a requested one: within 0..pages-1 (an old button may point past the end). */
export function clampPage(requested: number, pages: number): number {
  return Math.min(Math.max(0, requested), Math.max(1, pages) - 1);
}
