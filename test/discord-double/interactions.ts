/**
 * Interaction payloads the double sends over the gateway (INTERACTION_CREATE) and the state it keeps
 * per interaction: token, 3-second acknowledgement deadline, 15-minute token lifetime, callback.
 * https://discord.com/developers/docs/interactions/receiving-and-responding
 */
import { randomBytes } from "node:crypto";
import type { APIAttachment, APIUser } from "discord.js";
import { type DoubleMember, defaultInvoker, makeUser, type World } from "./fixtures.js";
import type { MessageState, RecordedFile } from "./messages.js";
import { snowflake } from "./snowflake.js";

export const InteractionType = {
  ApplicationCommand: 2,
  MessageComponent: 3,
  Autocomplete: 4,
  ModalSubmit: 5,
} as const;

export const CallbackType = {
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
  AutocompleteResult: 8,
  Modal: 9,
} as const;

/** Callback types Discord accepts per interaction type. */
export const ALLOWED_CALLBACKS: Record<number, readonly number[]> = {
  [InteractionType.ApplicationCommand]: [4, 5, 9],
  [InteractionType.MessageComponent]: [4, 5, 6, 7, 9],
  [InteractionType.Autocomplete]: [8],
  [InteractionType.ModalSubmit]: [4, 5, 6, 7],
};

export const OptionType = {
  SubCommand: 1,
  SubCommandGroup: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
  User: 6,
  Channel: 7,
  Role: 8,
  Mentionable: 9,
  Number: 10,
  Attachment: 11,
} as const;

export type OptionValue = string | number | boolean | APIAttachment;

export interface CommandOptionInput {
  name: string;
  /** Application command option type; inferred from the registered command or the value when omitted. */
  type?: number;
  value?: OptionValue;
  options?: CommandOptionInput[];
  focused?: boolean;
}

export interface InvokerInput {
  /** Invoking user; a configured member with the same id is used as-is, others are made up. */
  user?: Partial<APIUser> & { id?: string };
  /** Member overrides (roles, nick, permissions). */
  member?: { roles?: string[]; nick?: string | null; permissions?: string };
  channelId?: string;
  /** The guild it happens in (default: the double's first); its shard's session receives it. */
  guildId?: string;
  locale?: string;
}

export interface CommandInput extends InvokerInput {
  name: string;
  options?: Record<string, OptionValue> | CommandOptionInput[];
  /** Command type: 1 chat input (default), 2 user, 3 message. */
  commandType?: number;
  /** For user/message context-menu commands. */
  targetId?: string;
}

export interface AutocompleteInput extends CommandInput {
  /** Name of the option being typed into; its value is the partial input. */
  focused: string;
}

export interface ComponentInput extends InvokerInput {
  customId: string;
  messageId: string;
  /** 2 button (default), 3 string select, 5 user select, ... */
  componentType?: number;
  values?: string[];
}

export interface ModalInput extends InvokerInput {
  customId: string;
  /** Text input custom_id → value. */
  fields: Record<string, string>;
  messageId?: string;
}

export interface InteractionCallback {
  type: number;
  data?: Record<string, unknown>;
  files: RecordedFile[];
  at: number;
  /** The message the callback created or updated (types 4, 5, 6, 7). */
  message?: MessageState;
}

export interface InteractionState {
  id: string;
  token: string;
  type: number;
  createdAt: number;
  channelId: string;
  user: APIUser;
  name?: string;
  commandType?: number;
  attachmentSizeLimit: number;
  /** The message a component/modal interaction came from. */
  sourceMessageId?: string;
  payload: Record<string, unknown>;
  callback?: InteractionCallback;
  originalMessageId?: string;
  settle(callback: InteractionCallback): void;
  fail(error: Error): void;
  timer?: NodeJS.Timeout;
}

export interface SentInteraction {
  interactionId: string;
  token: string;
  payload: Record<string, unknown>;
  /** Resolves with the first callback; rejects if none arrives within the acknowledgement deadline. */
  response: Promise<InteractionCallback>;
}

export function interactionToken(id: string): string {
  // Real tokens are long opaque url-safe strings starting with base64("interaction:<id>:").
  return `${Buffer.from(`interaction:${id}:`).toString("base64url")}${randomBytes(96).toString("base64url")}`;
}

export interface RegisteredCommand {
  id: string;
  name: string;
  type?: number;
  options?: RegisteredOption[];
  guild_id?: string;
}
interface RegisteredOption {
  name: string;
  type: number;
  options?: RegisteredOption[];
}

export function resolveInvoker(world: World, input: InvokerInput): DoubleMember {
  const configured = input.user?.id ? world.members.get(input.user.id) : undefined;
  const base = configured ?? (input.user ? undefined : defaultInvoker(world));
  const user = base?.user ?? makeUser(input.user ?? {});
  const member = base?.member ?? {
    ...defaultInvoker(world).member,
    user,
    roles: [],
    nick: null,
  };
  return {
    user,
    member: {
      ...member,
      ...(input.member?.roles ? { roles: input.member.roles } : {}),
      ...(input.member?.nick !== undefined ? { nick: input.member.nick } : {}),
    },
    permissions: input.member?.permissions ?? base?.permissions ?? world.everyonePermissions,
  };
}

/** Fields every guild interaction carries. */
export function baseInteraction(
  world: World,
  type: number,
  data: Record<string, unknown>,
  invoker: DoubleMember,
  input: InvokerInput,
  attachmentSizeLimit: number,
): { id: string; token: string; channelId: string; payload: Record<string, unknown> } {
  const id = snowflake();
  const token = interactionToken(id);
  const channelId = input.channelId ?? world.channelId;
  const channel = world.channels.find((c) => c.id === channelId) ?? {
    id: channelId,
    type: 0,
    guild_id: world.guildId,
  };
  const bot = world.members.get(world.botUser.id)!;
  return {
    id,
    token,
    channelId,
    payload: {
      id,
      application_id: world.applicationId,
      type,
      data,
      guild: { id: world.guildId, locale: "en-US", features: [] },
      guild_id: world.guildId,
      channel: { ...channel, permissions: invoker.permissions },
      channel_id: channelId,
      member: { ...invoker.member, permissions: invoker.permissions },
      token,
      version: 1,
      app_permissions: bot.permissions,
      locale: input.locale ?? "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": world.guildId },
      context: 0,
      attachment_size_limit: attachmentSizeLimit,
    },
  };
}

/** Builds `data` for APPLICATION_COMMAND / AUTOCOMPLETE, with `resolved` for entity options. */
export function commandData(
  world: World,
  input: CommandInput,
  registered: RegisteredCommand | undefined,
  focused?: string,
): Record<string, unknown> {
  const resolved: Record<string, Record<string, unknown>> = {};
  const add = (kind: string, id: string, value: unknown) => {
    resolved[kind] ??= {};
    resolved[kind][id] = value;
  };
  const list = Array.isArray(input.options)
    ? input.options
    : Object.entries(input.options ?? {}).map(([name, value]) => ({ name, value }));

  const build = (options: CommandOptionInput[], defs: RegisteredOption[] | undefined): unknown[] =>
    options.map((option) => {
      const def = defs?.find((d) => d.name === option.name);
      const type = option.type ?? def?.type ?? inferType(option);
      if (type === OptionType.SubCommand || type === OptionType.SubCommandGroup) {
        return { name: option.name, type, options: build(option.options ?? [], def?.options) };
      }
      let value = option.value;
      if (type === OptionType.Attachment && typeof value === "object") {
        add("attachments", value.id, value);
        value = value.id;
      } else if (type === OptionType.User || type === OptionType.Mentionable) {
        const member = world.members.get(String(value));
        if (member) {
          add("users", member.user.id, member.user);
          const { user: _user, ...rest } = member.member;
          add("members", member.user.id, { ...rest, permissions: member.permissions });
        } else if (type === OptionType.Mentionable) {
          const role = world.roles.find((r) => r.id === String(value));
          if (role) add("roles", role.id, role);
        }
      } else if (type === OptionType.Role) {
        const role = world.roles.find((r) => r.id === String(value));
        if (role) add("roles", role.id, role);
      } else if (type === OptionType.Channel) {
        const channel = world.channels.find((c) => c.id === String(value));
        if (channel) add("channels", channel.id, { ...channel, permissions: world.everyonePermissions });
      }
      const isFocused = option.focused || option.name === focused;
      return { name: option.name, type, value, ...(isFocused ? { focused: true } : {}) };
    });

  const commandType = input.commandType ?? registered?.type ?? 1;
  const options = build(list, registered?.options);
  if (input.targetId) {
    const member = world.members.get(input.targetId);
    if (member) {
      add("users", member.user.id, member.user);
      const { user: _user, ...rest } = member.member;
      add("members", member.user.id, { ...rest, permissions: member.permissions });
    }
  }
  return {
    id: registered?.id ?? snowflake(),
    name: input.name,
    type: commandType,
    ...(options.length ? { options } : {}),
    ...(Object.keys(resolved).length ? { resolved } : {}),
    ...(registered?.guild_id ? { guild_id: registered.guild_id } : {}),
    ...(input.targetId ? { target_id: input.targetId } : {}),
  };
}

function inferType(option: CommandOptionInput): number {
  if (option.options) return OptionType.SubCommand;
  const v = option.value;
  if (typeof v === "boolean") return OptionType.Boolean;
  if (typeof v === "number") return Number.isInteger(v) ? OptionType.Integer : OptionType.Number;
  if (typeof v === "object" && v !== null) return OptionType.Attachment;
  return OptionType.String;
}
