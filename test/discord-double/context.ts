/** Shared state the route modules work on, and the gateway events message changes fan out as. */
import type { Cdn } from "./cdn.js";
import type { World } from "./fixtures.js";
import { type Gateway, Intent } from "./gateway.js";
import type { InteractionState, RegisteredCommand } from "./interactions.js";
import { emojiObject, type MessageState, type MessageStore, toApiMessage } from "./messages.js";

export interface Limits {
  /** Time to acknowledge an interaction (Discord: 3 s). */
  deadlineMs: number;
  /** Interaction token lifetime (Discord: 15 min). */
  tokenTtlMs: number;
  /** Per-file upload limit in bytes (sent as `attachment_size_limit`). */
  attachmentSizeLimit: number;
}

export interface DoubleContext {
  world: World;
  token: string;
  messages: MessageStore;
  interactionsById: Map<string, InteractionState>;
  interactionsByToken: Map<string, InteractionState>;
  cdn: Cdn;
  gateway: Gateway;
  /** Registered commands: key "global" or a guild id. */
  commands: Map<string, RegisteredCommand[]>;
  limits: Limits;
  origin(): string;
}

export function apiMessage(ctx: DoubleContext, m: MessageState): Record<string, unknown> {
  return toApiMessage(m, ctx.world.botUser.id);
}

/** MESSAGE_CREATE / MESSAGE_UPDATE for guild-visible messages; ephemeral ones never reach the gateway. */
export function emitMessage(
  ctx: DoubleContext,
  t: "MESSAGE_CREATE" | "MESSAGE_UPDATE",
  m: MessageState,
): void {
  if (m.ephemeral) return;
  const author = ctx.world.members.get(m.author.id);
  const { user: _user, ...member } = author?.member ?? { user: undefined };
  ctx.gateway.dispatch(
    t,
    { ...apiMessage(ctx, m), guild_id: ctx.world.guildId, ...(author && !m.webhook_id ? { member } : {}) },
    Intent.GuildMessages,
  );
}

export function emitMessageDelete(ctx: DoubleContext, m: MessageState): void {
  if (m.ephemeral) return;
  ctx.gateway.dispatch(
    "MESSAGE_DELETE",
    { id: m.id, channel_id: m.channel_id, guild_id: ctx.world.guildId },
    Intent.GuildMessages,
  );
}

export function emitReaction(
  ctx: DoubleContext,
  t: "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE",
  m: MessageState,
  emoji: string,
  userId: string,
): void {
  if (m.ephemeral) return;
  const member = ctx.world.members.get(userId)?.member;
  ctx.gateway.dispatch(
    t,
    {
      user_id: userId,
      channel_id: m.channel_id,
      message_id: m.id,
      guild_id: ctx.world.guildId,
      emoji: emojiObject(emoji),
      burst: false,
      type: 0,
      ...(t === "MESSAGE_REACTION_ADD"
        ? { message_author_id: m.author.id, ...(member ? { member } : {}) }
        : {}),
    },
    Intent.GuildMessageReactions,
  );
}
