/** The static world the double serves: bot user, one guild with its roles, channels and members. */
import type { APIChannel, APIGuildMember, APIRole, APIUser } from "discord.js";
import { snowflake } from "./snowflake.js";

/** Permission bits used below (https://discord.com/developers/docs/topics/permissions). */
export const Permission = {
  CreateInstantInvite: 1n << 0n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseExternalEmojis: 1n << 18n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
} as const;

const EVERYONE_PERMISSIONS =
  Permission.CreateInstantInvite |
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.UseApplicationCommands |
  Permission.SendMessagesInThreads;

export interface MemberInput {
  user: Partial<APIUser> & { id?: string; username?: string };
  nick?: string | null;
  roles?: string[];
  /** Permission bitfield (decimal string) the member has in the interaction channel. */
  permissions?: string;
}

export interface DoubleMember {
  user: APIUser;
  member: APIGuildMember;
  permissions: string;
}

export interface World {
  applicationId: string;
  botUser: APIUser;
  guildId: string;
  guildName: string;
  channelId: string;
  roles: APIRole[];
  channels: APIChannel[];
  members: Map<string, DoubleMember>;
  everyonePermissions: string;
}

export interface WorldOptions {
  guildId?: string;
  channelId?: string;
  botUserId?: string;
  applicationId?: string;
  members?: MemberInput[];
}

export function makeUser(input: Partial<APIUser> & { id?: string; username?: string }, bot = false): APIUser {
  const id = input.id ?? snowflake();
  const username = input.username ?? `user${id.slice(-4)}`;
  return {
    id,
    username,
    discriminator: "0",
    global_name: bot ? null : username,
    avatar: null,
    ...(bot ? { bot: true } : {}),
    public_flags: 0,
    flags: 0,
    ...input,
  } as APIUser;
}

function makeMember(user: APIUser, roles: string[], nick: string | null): APIGuildMember {
  return {
    user,
    nick,
    avatar: null,
    banner: null,
    roles,
    joined_at: new Date(Date.now() - 86_400_000).toISOString(),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  } as unknown as APIGuildMember;
}

function role(id: string, name: string, permissions: bigint, position: number, managed = false): APIRole {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed,
    mentionable: false,
    flags: 0,
  } as unknown as APIRole;
}

export function makeWorld(options: WorldOptions): World {
  const guildId = options.guildId ?? snowflake();
  const channelId = options.channelId ?? snowflake();
  const applicationId = options.applicationId ?? snowflake();
  // Modern apps share the id of their bot user; keep that default.
  const botUser = makeUser({ id: options.botUserId ?? applicationId, username: "Stylize" }, true);
  const botRoleId = snowflake();
  const roles = [
    // The @everyone role's id is the guild id.
    role(guildId, "@everyone", EVERYONE_PERMISSIONS, 0),
    role(botRoleId, "Stylize", EVERYONE_PERMISSIONS, 1, true),
  ];
  const channels = [
    {
      id: channelId,
      type: 0,
      guild_id: guildId,
      name: "stylize",
      position: 0,
      permission_overwrites: [],
      topic: null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      parent_id: null,
      flags: 0,
    } as unknown as APIChannel,
  ];
  const members = new Map<string, DoubleMember>();
  members.set(botUser.id, {
    user: botUser,
    member: makeMember(botUser, [botRoleId], null),
    permissions: EVERYONE_PERMISSIONS.toString(),
  });
  const inputs = options.members?.length ? options.members : [{ user: { username: "painter" } }];
  for (const input of inputs) {
    const user = makeUser(input.user);
    members.set(user.id, {
      user,
      member: makeMember(user, input.roles ?? [], input.nick ?? null),
      permissions: input.permissions ?? EVERYONE_PERMISSIONS.toString(),
    });
  }
  return {
    applicationId,
    botUser,
    guildId,
    guildName: "Stylize Test Guild",
    channelId,
    roles,
    channels,
    members,
    everyonePermissions: EVERYONE_PERMISSIONS.toString(),
  };
}

/** The first member who is not the bot: the default invoker of interactions. */
export function defaultInvoker(world: World): DoubleMember {
  for (const m of world.members.values()) if (m.user.id !== world.botUser.id) return m;
  throw new Error("discord double: no non-bot member configured");
}

/** GUILD_CREATE payload (https://discord.com/developers/docs/events/gateway-events#guild-create). */
export function guildCreatePayload(world: World): Record<string, unknown> {
  const members = [...world.members.values()].map((m) => m.member);
  return {
    id: world.guildId,
    name: world.guildName,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: defaultInvoker(world).user.id,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: world.roles,
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: world.channelId,
    system_channel_flags: 0,
    rules_channel_id: null,
    max_members: 500_000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: "en-US",
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    safety_alerts_channel_id: null,
    incidents_data: null,
    // GUILD_CREATE-only fields:
    joined_at: new Date(Date.now() - 86_400_000).toISOString(),
    large: false,
    unavailable: false,
    member_count: members.length,
    voice_states: [],
    members,
    channels: world.channels.map((c) => {
      // Channels inside GUILD_CREATE carry no guild_id.
      const { guild_id: _omit, ...rest } = c as unknown as Record<string, unknown>;
      return rest;
    }),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** REST guild object (GET /guilds/{id}). */
export function guildPayload(world: World): Record<string, unknown> {
  const full = guildCreatePayload(world);
  for (const key of [
    "joined_at",
    "large",
    "unavailable",
    "member_count",
    "voice_states",
    "members",
    "channels",
    "threads",
    "presences",
    "stage_instances",
    "guild_scheduled_events",
    "soundboard_sounds",
  ]) {
    delete full[key];
  }
  return full;
}
