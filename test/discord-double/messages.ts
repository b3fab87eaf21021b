/**
 * Per-message state, and the create/edit rules of Discord's message endpoints
 * (https://discord.com/developers/docs/resources/message, .../reference#uploading-files):
 * `files[n]` parts pair with `attachments[].id == n`; on edit, a present `attachments`
 * array is the full list to keep (v10), an absent one appends new files.
 */
import type { APIAttachment, APIUser } from "discord.js";
import type { Cdn } from "./cdn.js";
import { type ApiReply, DiscordError, errorReply, fieldError } from "./errors.js";
import { snowflake } from "./snowflake.js";

export const MessageFlag = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsComponentsV2: 1 << 15,
} as const;

const CREATE_FLAGS =
  MessageFlag.SuppressEmbeds |
  MessageFlag.Ephemeral |
  MessageFlag.SuppressNotifications |
  MessageFlag.IsComponentsV2;
const EDIT_FLAGS = MessageFlag.SuppressEmbeds | MessageFlag.IsComponentsV2;

export interface RecordedFile {
  /** Form field name, e.g. "files[0]". */
  field: string;
  /** The part's filename. */
  name: string;
  contentType: string;
  data: Buffer;
}

export type StoredAttachment = APIAttachment & { data: Buffer };

export interface MessageEdit {
  at: number;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
  attachments: string[];
}

export interface MessageState {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: APIUser;
  type: number;
  content: string;
  embeds: Record<string, unknown>[];
  components: unknown[];
  flags: number;
  attachments: StoredAttachment[];
  timestamp: string;
  edited_timestamp: string | null;
  nonce?: string | number;
  message_reference?: Record<string, unknown>;
  webhook_id?: string;
  application_id?: string;
  /** Set for interaction responses and follow-ups. */
  interaction?: { id: string; token: string; type: number; name?: string; user: APIUser };
  ephemeral: boolean;
  deleted: boolean;
  /** emoji key ("👍" or "name:id") → ids of users who reacted. */
  reactions: Map<string, Set<string>>;
  /** One snapshot per successful edit, oldest first. */
  edits: MessageEdit[];
}

export type MessageBody = Record<string, unknown>;

export interface CreateContext {
  channelId: string;
  guildId?: string;
  author: APIUser;
  type: number;
  attachmentSizeLimit: number;
  webhookId?: string;
  applicationId?: string;
  interaction?: MessageState["interaction"];
  /** Flags forced on (e.g. LOADING for a deferred response). */
  extraFlags?: number;
}

export class MessageStore {
  readonly byId = new Map<string, MessageState>();

  constructor(private readonly cdn: Cdn) {}

  get(id: string): MessageState | undefined {
    const m = this.byId.get(id);
    return m && !m.deleted ? m : undefined;
  }

  /** Validates and creates; returns the state or an error reply. */
  create(body: MessageBody, files: RecordedFile[], ctx: CreateContext): MessageState | ApiReply {
    const invalid = validate(body, files, ctx.attachmentSizeLimit);
    if (invalid) return invalid;
    const hasPayload =
      (typeof body.content === "string" && body.content.length > 0) ||
      (Array.isArray(body.embeds) && body.embeds.length > 0) ||
      (Array.isArray(body.components) && body.components.length > 0) ||
      files.length > 0 ||
      body.sticker_ids !== undefined ||
      body.poll !== undefined;
    if (!hasPayload && !(ctx.extraFlags && ctx.extraFlags & MessageFlag.Loading)) {
      return errorReply(DiscordError.CannotSendEmptyMessage);
    }
    const id = snowflake();
    const flags = ((Number(body.flags) || 0) & CREATE_FLAGS) | (ctx.extraFlags ?? 0);
    const state: MessageState = {
      id,
      channel_id: ctx.channelId,
      ...(ctx.guildId ? { guild_id: ctx.guildId } : {}),
      author: ctx.author,
      type: ctx.type,
      content: typeof body.content === "string" ? body.content : "",
      embeds: [],
      components: Array.isArray(body.components) ? body.components : [],
      flags,
      attachments: this.newAttachments(body, files, ctx.channelId),
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      ...(body.nonce !== undefined ? { nonce: body.nonce as string | number } : {}),
      ...(body.message_reference
        ? { message_reference: body.message_reference as Record<string, unknown> }
        : {}),
      ...(ctx.webhookId ? { webhook_id: ctx.webhookId } : {}),
      ...(ctx.applicationId ? { application_id: ctx.applicationId } : {}),
      ...(ctx.interaction ? { interaction: ctx.interaction } : {}),
      ephemeral: (flags & MessageFlag.Ephemeral) !== 0,
      deleted: false,
      reactions: new Map(),
      edits: [],
    };
    state.embeds = resolveEmbeds(body.embeds, state.attachments);
    this.byId.set(id, state);
    return state;
  }

  /** Applies an edit body (only the keys present change); returns an error reply or undefined. */
  edit(
    state: MessageState,
    body: MessageBody,
    files: RecordedFile[],
    attachmentSizeLimit: number,
  ): ApiReply | undefined {
    const invalid = validate(body, files, attachmentSizeLimit);
    if (invalid) return invalid;
    if ("content" in body) state.content = typeof body.content === "string" ? body.content : "";
    if ("components" in body) state.components = Array.isArray(body.components) ? body.components : [];
    if ("flags" in body && body.flags !== null) {
      state.flags = (state.flags & ~EDIT_FLAGS) | ((Number(body.flags) || 0) & EDIT_FLAGS);
    }
    if (Array.isArray(body.attachments)) {
      const keep = new Map(state.attachments.map((a) => [a.id, a]));
      const fresh = this.newAttachments(body, files, state.channel_id);
      const byIndex = new Map(fresh.map((a, i) => [attachmentIndex(files, i), a]));
      state.attachments = (body.attachments as { id?: unknown }[]).flatMap((ref) => {
        const id = String(ref.id);
        const attachment = keep.get(id) ?? byIndex.get(id);
        return attachment ? [attachment] : [];
      });
    } else if (files.length > 0) {
      state.attachments = [...state.attachments, ...this.newAttachments(body, files, state.channel_id)];
    }
    if ("embeds" in body) state.embeds = resolveEmbeds(body.embeds, state.attachments);
    // Any edit finishes a deferred ("thinking…") response.
    state.flags &= ~MessageFlag.Loading;
    state.edited_timestamp = new Date().toISOString();
    state.edits.push({
      at: Date.now(),
      content: state.content,
      embeds: state.embeds,
      components: state.components,
      flags: state.flags,
      attachments: state.attachments.map((a) => a.filename),
    });
    return undefined;
  }

  private newAttachments(body: MessageBody, files: RecordedFile[], channelId: string): StoredAttachment[] {
    const refs = Array.isArray(body.attachments) ? (body.attachments as Record<string, unknown>[]) : [];
    return files.map((file, i) => {
      const ref = refs.find((r) => String(r.id) === attachmentIndex(files, i));
      const filename = typeof ref?.filename === "string" ? ref.filename : file.name;
      const api = this.cdn.host(file.data, channelId, {
        filename,
        contentType: file.contentType,
        ...(typeof ref?.description === "string" ? { description: ref.description } : {}),
        ...(typeof ref?.title === "string" ? { title: ref.title } : {}),
      });
      return { ...api, data: file.data };
    });
  }
}

/** The attachment id a file part pairs with: n for "files[n]" (any "[n]"-suffixed field), else its position. */
function attachmentIndex(files: RecordedFile[], i: number): string {
  return /\[(\d+)\]$/.exec(files[i]!.field)?.[1] ?? String(i);
}

function validate(body: MessageBody, files: RecordedFile[], sizeLimit: number): ApiReply | undefined {
  if (files.some((f) => f.data.length > sizeLimit)) return errorReply(DiscordError.RequestEntityTooLarge);
  if (typeof body.content === "string" && body.content.length > 2000) {
    return errorReply(
      DiscordError.InvalidFormBody,
      fieldError("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."),
    );
  }
  if (Array.isArray(body.embeds) && body.embeds.length > 10) {
    return errorReply(
      DiscordError.InvalidFormBody,
      fieldError("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."),
    );
  }
  if (files.length > 10) {
    return errorReply(
      DiscordError.InvalidFormBody,
      fieldError("attachments", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."),
    );
  }
  return undefined;
}

/** Embeds come back with `type: "rich"`, and `attachment://name` images resolved to the attachment. */
function resolveEmbeds(embeds: unknown, attachments: StoredAttachment[]): Record<string, unknown>[] {
  if (!Array.isArray(embeds)) return [];
  return embeds.map((raw) => {
    const embed: Record<string, unknown> = { type: "rich", ...(raw as Record<string, unknown>) };
    for (const key of ["image", "thumbnail"]) {
      const media = embed[key] as { url?: string } | undefined;
      const name = media?.url?.startsWith("attachment://")
        ? media.url.slice("attachment://".length)
        : undefined;
      const attachment = name ? attachments.find((a) => a.filename === name) : undefined;
      if (attachment) {
        embed[key] = {
          url: attachment.url,
          proxy_url: attachment.proxy_url,
          ...(attachment.width ? { width: attachment.width, height: attachment.height } : {}),
          ...(attachment.content_type ? { content_type: attachment.content_type } : {}),
        };
      }
    }
    return embed;
  });
}

/** The API message object for a state (https://discord.com/developers/docs/resources/message#message-object). */
export function toApiMessage(m: MessageState, botUserId: string): Record<string, unknown> {
  const reactions = [...m.reactions.entries()]
    .filter(([, users]) => users.size > 0)
    .map(([key, users]) => ({
      emoji: emojiObject(key),
      count: users.size,
      count_details: { burst: 0, normal: users.size },
      burst_colors: [],
      me: users.has(botUserId),
      me_burst: false,
    }));
  return {
    type: m.type,
    content: m.content,
    mentions: [],
    mention_roles: [],
    attachments: m.attachments.map(({ data: _bytes, ...a }) => a),
    embeds: m.embeds,
    timestamp: m.timestamp,
    edited_timestamp: m.edited_timestamp,
    flags: m.flags,
    components: m.components,
    id: m.id,
    channel_id: m.channel_id,
    author: m.author,
    pinned: false,
    mention_everyone: false,
    tts: false,
    ...(reactions.length ? { reactions } : {}),
    ...(m.nonce !== undefined ? { nonce: m.nonce } : {}),
    ...(m.message_reference ? { message_reference: m.message_reference } : {}),
    ...(m.webhook_id ? { webhook_id: m.webhook_id } : {}),
    ...(m.application_id ? { application_id: m.application_id } : {}),
    ...(m.interaction
      ? {
          interaction_metadata: {
            id: m.interaction.id,
            type: m.interaction.type,
            user: m.interaction.user,
            authorizing_integration_owners: m.guild_id ? { "0": m.guild_id } : { "1": m.interaction.user.id },
            ...(m.interaction.name ? { name: m.interaction.name } : {}),
          },
          interaction: {
            id: m.interaction.id,
            type: m.interaction.type,
            name: m.interaction.name ?? "",
            user: m.interaction.user,
          },
        }
      : {}),
  };
}

/** "👍" → { id: null, name: "👍" }; "name:123" / "a:name:123" → custom emoji. */
export function emojiObject(key: string): Record<string, unknown> {
  const parts = key.split(":");
  if (parts.length >= 2 && /^\d+$/.test(parts.at(-1)!)) {
    return {
      id: parts.at(-1),
      name: parts.at(-2),
      ...(parts[0] === "a" && parts.length === 3 ? { animated: true } : {}),
    };
  }
  return { id: null, name: key };
}
