import { GuildMember, PermissionFlagsBits, type RepliableInteraction } from "discord.js";
import type { GuildSettings } from "../store/index.js";

/** Who may moderate community presets and change settings: Manage Server, or the guild's moderator role. */
export function isModerator(
  interaction: RepliableInteraction,
  settings: Pick<GuildSettings, "moderatorRoleId">,
): boolean {
  if (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) return true;
  const role = settings.moderatorRoleId;
  const member = interaction.member;
  if (!role || !member) return false;
  // A cached guild gives a GuildMember; otherwise Discord's raw member with role ids.
  return member instanceof GuildMember ? member.roles.cache.has(role) : member.roles.includes(role);
}

export function moderatorsText(settings: Pick<GuildSettings, "moderatorRoleId">): string {
  return settings.moderatorRoleId
    ? `members with Manage Server or the <@&${settings.moderatorRoleId}> role`
    : "members with the Manage Server permission";
}
