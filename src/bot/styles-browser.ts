import { AttachmentBuilder, EmbedBuilder } from "discord.js";
import { stylesPageId } from "./custom-ids.js";
import { clampPage, pageButtons } from "./paging.js";
import type { PresetCatalog } from "./presets.js";

/**
 * /styles: the built-in presets and the guild's approved community ones, a few per page with thumbnails,
 * paged by stateless Previous / Next buttons.
 */

export const STYLES_PER_PAGE = 4;

export async function stylesPage(presets: PresetCatalog, requestedPage: number, guildId?: string) {
  const all = presets.available(guildId);
  const pages = Math.max(1, Math.ceil(all.length / STYLES_PER_PAGE));
  const page = clampPage(requestedPage, pages);
  const shown = all.slice(page * STYLES_PER_PAGE, (page + 1) * STYLES_PER_PAGE);
  const files: AttachmentBuilder[] = [];
  const embeds = await Promise.all(
    shown.map(async (preset) => {
      const embed = preset.community
        ? new EmbedBuilder()
            .setTitle(`${preset.title} (community)`)
            .setDescription(
              [
                preset.community.description,
                `Submitted by <@${preset.community.submitterId}>`,
                `Use it: \`/stylize style:${preset.title}\``,
              ]
                .filter(Boolean)
                .join("\n"),
            )
        : new EmbedBuilder()
            .setTitle(`${preset.title} (${preset.year})`)
            .setURL(preset.sourceUrl)
            .setDescription(
              presets.isInstalled(preset)
                ? `${preset.artist}\nUse it: \`/stylize style:${preset.id}\``
                : `${preset.artist}\nNot installed on this bot yet — its admin can add it with \`npm run models\`.`,
            )
            .setFooter({ text: preset.licence.slice(0, 2048) });
      // A missing painting still gets listed; it just has no thumbnail.
      const thumbnail = await presets.thumbnail(preset).catch(() => undefined);
      if (thumbnail) {
        const name = `${preset.id.replace(":", "-")}.jpg`;
        files.push(new AttachmentBuilder(thumbnail, { name }));
        embed.setThumbnail(`attachment://${name}`);
      }
      return embed;
    }),
  );
  const buttons = pageButtons(page, pages, stylesPageId);
  return {
    content: all.length === 0 ? "No styles are installed yet." : "",
    embeds,
    files,
    components: [buttons],
  };
}
