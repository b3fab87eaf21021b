/**
 * Interaction callback and the interaction-webhook endpoints
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#endpoints).
 */
import { apiMessage, type DoubleContext, emitMessage, emitMessageDelete } from "./context.js";
import { type ApiReply, DiscordError, errorReply, fieldError } from "./errors.js";
import {
  ALLOWED_CALLBACKS,
  CallbackType,
  type InteractionCallback,
  type InteractionState,
  InteractionType,
} from "./interactions.js";
import { MessageFlag, type MessageState } from "./messages.js";
import type { RouteDef, RouteRequest } from "./rest.js";

export function interactionRoutes(ctx: DoubleContext): RouteDef[] {
  const webhook = (
    method: string,
    suffix: string,
    handler: (it: InteractionState, req: RouteRequest, messageId?: string) => ApiReply,
  ): RouteDef => ({
    method,
    template: `/webhooks/:app/:token${suffix}`,
    auth: false,
    handler: (p, req) => {
      const resolved = resolveWebhook(ctx, p.app!, p.token!);
      return "status" in resolved ? resolved : handler(resolved, req, p.message);
    },
  });
  return [
    {
      method: "POST",
      template: "/interactions/:id/:token/callback",
      auth: false,
      handler: (p, req) => callback(ctx, p.id!, p.token!, req),
    },
    webhook("GET", "/messages/@original", (it) =>
      withMessage(ctx, it, it.originalMessageId, (m) => ok(ctx, m)),
    ),
    webhook("PATCH", "/messages/@original", (it, req) =>
      withMessage(ctx, it, it.originalMessageId, (m) => editMessage(ctx, it, m, req)),
    ),
    webhook("DELETE", "/messages/@original", (it) =>
      withMessage(ctx, it, it.originalMessageId, (m) => deleteMessage(ctx, m)),
    ),
    webhook("POST", "", (it, req) => followUp(ctx, it, req)),
    webhook("GET", "/messages/:message", (it, _req, id) => withMessage(ctx, it, id, (m) => ok(ctx, m))),
    webhook("PATCH", "/messages/:message", (it, req, id) =>
      withMessage(ctx, it, id, (m) => editMessage(ctx, it, m, req)),
    ),
    webhook("DELETE", "/messages/:message", (it, _req, id) =>
      withMessage(ctx, it, id, (m) => deleteMessage(ctx, m)),
    ),
  ];
}

function callback(ctx: DoubleContext, id: string, token: string, req: RouteRequest): ApiReply {
  const it = ctx.interactionsById.get(id);
  if (!it || it.token !== token) return errorReply(DiscordError.UnknownInteraction);
  if (it.callback) return errorReply(DiscordError.InteractionAlreadyAcknowledged);
  // Past the acknowledgement deadline the interaction is gone for good.
  if (Date.now() - it.createdAt > ctx.limits.deadlineMs) return errorReply(DiscordError.UnknownInteraction);

  const type = Number(req.json.type);
  if (!ALLOWED_CALLBACKS[it.type]?.includes(type)) {
    return errorReply(
      DiscordError.InvalidFormBody,
      fieldError(
        "type",
        "INTERACTION_RESPONSE_TYPE_INVALID",
        "Value must be one of the supported response types.",
      ),
    );
  }
  const data = (req.json.data ?? {}) as Record<string, unknown>;
  let message: MessageState | undefined;

  switch (type) {
    case CallbackType.ChannelMessageWithSource:
    case CallbackType.DeferredChannelMessageWithSource: {
      const deferred = type === CallbackType.DeferredChannelMessageWithSource;
      // A deferred response only keeps EPHEMERAL; the message shows "thinking…" (LOADING) until edited.
      const body = deferred ? { flags: Number(data.flags ?? 0) & MessageFlag.Ephemeral } : data;
      const created = ctx.messages.create(body, deferred ? [] : req.files, {
        ...responseMessageOptions(ctx, it),
        ...(deferred ? { extraFlags: MessageFlag.Loading } : {}),
      });
      if ("status" in created) return created;
      message = created;
      it.originalMessageId = message.id;
      emitMessage(ctx, "MESSAGE_CREATE", message);
      break;
    }
    case CallbackType.DeferredUpdateMessage:
    case CallbackType.UpdateMessage: {
      const source = it.sourceMessageId ? ctx.messages.get(it.sourceMessageId) : undefined;
      if (!source) return errorReply(DiscordError.UnknownMessage);
      if (type === CallbackType.UpdateMessage) {
        const failed = ctx.messages.edit(source, data, req.files, it.attachmentSizeLimit);
        if (failed) return failed;
        emitMessage(ctx, "MESSAGE_UPDATE", source);
      }
      message = source;
      it.originalMessageId = source.id;
      break;
    }
    case CallbackType.AutocompleteResult: {
      const choices = data.choices;
      if (!Array.isArray(choices) || choices.length > 25) {
        return errorReply(
          DiscordError.InvalidFormBody,
          fieldError("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."),
        );
      }
      break;
    }
    case CallbackType.Modal: {
      if (
        typeof data.custom_id !== "string" ||
        typeof data.title !== "string" ||
        !Array.isArray(data.components)
      ) {
        return errorReply(
          DiscordError.InvalidFormBody,
          fieldError("data.custom_id", "BASE_TYPE_REQUIRED", "This field is required"),
        );
      }
      break;
    }
  }

  const record: InteractionCallback = {
    type,
    data,
    files: req.files,
    at: Date.now(),
    ...(message ? { message } : {}),
  };
  it.callback = record;
  it.settle(record);

  if (req.query.get("with_response") !== "true") return { status: 204 };
  return {
    status: 200,
    body: {
      interaction: {
        id: it.id,
        type: it.type,
        ...(message
          ? {
              response_message_id: message.id,
              response_message_loading: (message.flags & MessageFlag.Loading) !== 0,
              response_message_ephemeral: message.ephemeral,
            }
          : {}),
      },
      resource: {
        type,
        ...(message && (type === CallbackType.ChannelMessageWithSource || type === CallbackType.UpdateMessage)
          ? { message: apiMessage(ctx, message) }
          : {}),
      },
    },
  };
}

/** Checks the app id and token; the token must be live and the interaction already answered. */
function resolveWebhook(ctx: DoubleContext, app: string, token: string): InteractionState | ApiReply {
  if (app !== ctx.world.applicationId) return errorReply(DiscordError.UnknownWebhook);
  const it = ctx.interactionsByToken.get(token);
  if (!it) return errorReply(DiscordError.InvalidWebhookToken);
  const age = Date.now() - it.createdAt;
  if (age > ctx.limits.tokenTtlMs) return errorReply(DiscordError.InvalidWebhookToken);
  if (!it.callback) {
    // An unanswered interaction's token dies with its 3 s deadline; before that it has no webhook yet.
    return errorReply(
      age > ctx.limits.deadlineMs ? DiscordError.InvalidWebhookToken : DiscordError.UnknownWebhook,
    );
  }
  return it;
}

function withMessage(
  ctx: DoubleContext,
  it: InteractionState,
  id: string | undefined,
  then: (m: MessageState) => ApiReply,
): ApiReply {
  const m = id ? ctx.messages.get(id) : undefined;
  // Only messages this interaction produced (or the one it was attached to) are reachable by its token.
  if (!m || (m.interaction?.token !== it.token && m.id !== it.originalMessageId)) {
    return errorReply(DiscordError.UnknownMessage);
  }
  return then(m);
}

function ok(ctx: DoubleContext, m: MessageState): ApiReply {
  return { status: 200, body: apiMessage(ctx, m) };
}

function editMessage(ctx: DoubleContext, it: InteractionState, m: MessageState, req: RouteRequest): ApiReply {
  const failed = ctx.messages.edit(m, req.json, req.files, it.attachmentSizeLimit);
  if (failed) return failed;
  emitMessage(ctx, "MESSAGE_UPDATE", m);
  return ok(ctx, m);
}

function deleteMessage(ctx: DoubleContext, m: MessageState): ApiReply {
  m.deleted = true;
  emitMessageDelete(ctx, m);
  return { status: 204 };
}

function followUp(ctx: DoubleContext, it: InteractionState, req: RouteRequest): ApiReply {
  const original = it.originalMessageId ? ctx.messages.get(it.originalMessageId) : undefined;
  if (
    it.callback?.type === CallbackType.DeferredChannelMessageWithSource &&
    original &&
    original.flags & MessageFlag.Loading
  ) {
    // Documented legacy behaviour: the first follow-up after a defer edits the loading message.
    const { flags: _ignored, ...body } = req.json;
    return editMessage(ctx, it, original, { ...req, json: body });
  }
  const created = ctx.messages.create(req.json, req.files, responseMessageOptions(ctx, it));
  if ("status" in created) return created;
  emitMessage(ctx, "MESSAGE_CREATE", created);
  return ok(ctx, created);
}

function interactionMeta(it: InteractionState): MessageState["interaction"] {
  return { id: it.id, token: it.token, type: it.type, ...(it.name ? { name: it.name } : {}), user: it.user };
}

/** CHAT_INPUT_COMMAND (20) / CONTEXT_MENU_COMMAND (23) for command responses, DEFAULT otherwise. */
function responseMessageType(it: InteractionState): number {
  if (it.type !== InteractionType.ApplicationCommand) return 0;
  return it.commandType === 1 || it.commandType === undefined ? 20 : 23;
}

/** Author, ids and interaction metadata shared by every message an interaction response creates. */
function responseMessageOptions(ctx: DoubleContext, it: InteractionState) {
  return {
    channelId: it.channelId,
    guildId: ctx.world.guildId,
    author: ctx.world.botUser,
    type: responseMessageType(it),
    attachmentSizeLimit: it.attachmentSizeLimit,
    webhookId: ctx.world.applicationId,
    applicationId: ctx.world.applicationId,
    interaction: interactionMeta(it),
  };
}
