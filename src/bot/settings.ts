import { DEFAULT_VOTE_EMOJI, type GuildSettings } from "../store/index.js";
import { UserError } from "./user-error.js";

/** Checking and showing a guild's settings (/settings); where they apply lives with each feature. */

/** A setting a moderator typed that cannot be used; the message says how to write it. */
export class SettingsError extends UserError {
  constructor(message: string) {
    super("bad_setting", message);
  }
}

/** A unicode emoji, or a custom one as Discord writes it (`<:name:id>`, `<a:name:id>`). */
export function parseVoteEmoji(input: string): string {
  const text = input.trim();
  if (/^<a?:\w{2,32}:\d{17,20}>$/.test(text)) return text;
  // Exactly one emoji: one grapheme (joiners, skin tones and flags included) that is pictographic.
  const graphemes = [...new Intl.Segmenter().segment(text)].length;
  if (graphemes === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u.test(text)) return text;
  throw new SettingsError(
    `“${input}” isn't an emoji I can count — send one emoji, like ⭐ or a server emoji.`,
  );
}

/** Channel mentions or ids separated by spaces or commas; empty or "all" = every channel. */
export function parseChannelList(input: string): string[] {
  const text = input.trim();
  if (text === "" || text.toLowerCase() === "all") return [];
  const ids = text.split(/[\s,]+/).map((part) => /^(?:<#)?(\d{17,20})>?$/.exec(part)?.[1]);
  if (ids.some((id) => id === undefined)) {
    throw new SettingsError("List channels as mentions like #art #bots (or type `all` for every channel).");
  }
  return [...new Set(ids as string[])];
}

export function describeSettings(settings: GuildSettings, botLimit: number): string {
  const hallOfFame =
    settings.hallOfFameChannelId && settings.hallOfFameThreshold
      ? `<#${settings.hallOfFameChannelId}> at ${settings.hallOfFameThreshold} votes`
      : "off";
  return [
    "**Settings for this server**",
    `• Community styles: ${settings.autoApprove ? "go live at once (auto-approve)" : "wait for a moderator"}`,
    `• Moderators: Manage Server${settings.moderatorRoleId ? ` and <@&${settings.moderatorRoleId}>` : ""}`,
    `• Vote emoji: ${settings.voteEmoji}${settings.voteEmoji === DEFAULT_VOTE_EMOJI ? " (default)" : ""}`,
    `• Hall of fame: ${hallOfFame}`,
    `• Jobs per member: ${settings.perUserLimit ?? botLimit}${settings.perUserLimit ? "" : " (the bot's limit)"}`,
    `• /stylize works in: ${settings.allowedChannelIds.length > 0 ? settings.allowedChannelIds.map((id) => `<#${id}>`).join(" ") : "every channel"}`,
  ].join("\n");
}
