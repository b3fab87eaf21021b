/** Bot-token routes: gateway info, users, application + commands, channels, messages, reactions, guilds. */
import { apiMessage, type DoubleContext, emitMessage, emitMessageDelete, emitReaction } from "./context.js";
import { type ApiReply, DiscordError, errorReply, fieldError } from "./errors.js";
import { guildPayload } from "./fixtures.js";
import type { RegisteredCommand } from "./interactions.js";
import type { MessageState } from "./messages.js";
import type { RouteDef, RouteRequest } from "./rest.js";
import { snowflake } from "./snowflake.js";

export function resourceRoutes(ctx: DoubleContext): RouteDef[] {
  const { world } = ctx;
  const json = (body: unknown): ApiReply => ({ status: 200, body });
  const route = (method: string, template: string, handler: RouteDef["handler"]): RouteDef => ({
    method,
    template,
    auth: true,
    handler,
  });
  const inGuild = (guildId: string | undefined, then: () => ApiReply): ApiReply =>
    guildId === world.guildId ? then() : errorReply(DiscordError.UnknownGuild);
  const inChannel = (channelId: string | undefined, then: () => ApiReply): ApiReply =>
    world.channels.some((c) => c.id === channelId) ? then() : errorReply(DiscordError.UnknownChannel);
  const channelMessage = (p: Record<string, string>, then: (m: MessageState) => ApiReply): ApiReply =>
    inChannel(p.channel, () => {
      const m = ctx.messages.get(p.message!);
      // Ephemeral messages are invisible to channel endpoints.
      return m && m.channel_id === p.channel && !m.ephemeral
        ? then(m)
        : errorReply(DiscordError.UnknownMessage);
    });
  const commandsOf = (key: string) => ctx.commands.get(key) ?? [];

  return [
    route("GET", "/gateway", () => json({ url: gatewayUrl(ctx) })),
    route("GET", "/gateway/bot", () =>
      json({
        url: gatewayUrl(ctx),
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      }),
    ),
    route("GET", "/users/@me", () =>
      json({ ...world.botUser, verified: true, mfa_enabled: false, email: null }),
    ),
    route("GET", "/users/:user", (p) => {
      const m = world.members.get(p.user!);
      return m ? json(m.user) : errorReply(DiscordError.UnknownUser);
    }),
    route("GET", "/applications/@me", () => json(application(ctx))),
    route("GET", "/oauth2/applications/@me", () => json(application(ctx))),

    // Application commands, global and per guild.
    route("GET", "/applications/:app/commands", (p) => ownApp(ctx, p.app, () => json(commandsOf("global")))),
    route("PUT", "/applications/:app/commands", (p, req) =>
      ownApp(ctx, p.app, () => overwriteCommands(ctx, "global", req)),
    ),
    route("POST", "/applications/:app/commands", (p, req) =>
      ownApp(ctx, p.app, () => createCommand(ctx, "global", req)),
    ),
    route("GET", "/applications/:app/guilds/:guild/commands", (p) =>
      ownApp(ctx, p.app, () => inGuild(p.guild, () => json(commandsOf(p.guild!)))),
    ),
    route("PUT", "/applications/:app/guilds/:guild/commands", (p, req) =>
      ownApp(ctx, p.app, () => inGuild(p.guild, () => overwriteCommands(ctx, p.guild!, req))),
    ),
    route("POST", "/applications/:app/guilds/:guild/commands", (p, req) =>
      ownApp(ctx, p.app, () => inGuild(p.guild, () => createCommand(ctx, p.guild!, req))),
    ),

    // Channels and messages.
    route("GET", "/channels/:channel", (p) =>
      inChannel(p.channel, () => json(world.channels.find((c) => c.id === p.channel))),
    ),
    route("POST", "/channels/:channel/typing", (p) => inChannel(p.channel, () => ({ status: 204 }))),
    route("POST", "/channels/:channel/messages", (p, req) =>
      inChannel(p.channel, () => postMessage(ctx, p.channel!, req)),
    ),
    route("GET", "/channels/:channel/messages/:message", (p) =>
      channelMessage(p, (m) => json(apiMessage(ctx, m))),
    ),
    route("PATCH", "/channels/:channel/messages/:message", (p, req) =>
      channelMessage(p, (m) => {
        if (m.author.id !== world.botUser.id || m.webhook_id)
          return errorReply(DiscordError.CannotEditOthersMessage);
        const failed = ctx.messages.edit(m, req.json, req.files, ctx.limits.attachmentSizeLimit);
        if (failed) return failed;
        emitMessage(ctx, "MESSAGE_UPDATE", m);
        return json(apiMessage(ctx, m));
      }),
    ),
    route("DELETE", "/channels/:channel/messages/:message", (p) =>
      channelMessage(p, (m) => {
        m.deleted = true;
        emitMessageDelete(ctx, m);
        return { status: 204 };
      }),
    ),
    route("PUT", "/channels/:channel/messages/:message/reactions/:emoji/@me", (p) =>
      channelMessage(p, (m) => react(ctx, m, p.emoji!, true)),
    ),
    route("DELETE", "/channels/:channel/messages/:message/reactions/:emoji/@me", (p) =>
      channelMessage(p, (m) => react(ctx, m, p.emoji!, false)),
    ),

    // Guild.
    route("GET", "/guilds/:guild", (p) => inGuild(p.guild, () => json(guildPayload(world)))),
    route("GET", "/guilds/:guild/channels", (p) => inGuild(p.guild, () => json(world.channels))),
    route("GET", "/guilds/:guild/roles", (p) => inGuild(p.guild, () => json(world.roles))),
    route("GET", "/guilds/:guild/members/:user", (p) =>
      inGuild(p.guild, () => {
        const m = world.members.get(p.user!);
        return m ? json(m.member) : errorReply(DiscordError.UnknownMember);
      }),
    ),
  ];
}

function gatewayUrl(ctx: DoubleContext): string {
  return ctx.origin().replace(/^http/, "ws");
}

function ownApp(ctx: DoubleContext, app: string | undefined, then: () => ApiReply): ApiReply {
  // Discord answers 403 Missing Access (50001) for another application's commands.
  return app === ctx.world.applicationId
    ? then()
    : { status: 403, body: { message: "Missing Access", code: 50001 } };
}

function application(ctx: DoubleContext): Record<string, unknown> {
  const owner = [...ctx.world.members.values()].find((m) => m.user.id !== ctx.world.botUser.id)?.user;
  return {
    id: ctx.world.applicationId,
    name: ctx.world.botUser.username,
    icon: null,
    description: "",
    summary: "",
    type: null,
    bot: ctx.world.botUser,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: "0".repeat(64),
    flags: 0,
    hook: true,
    is_monetized: false,
    is_verified: false,
    is_discoverable: false,
    storefront_available: false,
    redirect_uris: [],
    interactions_endpoint_url: null,
    integration_types_config: { "0": {} },
    approximate_guild_count: 1,
    team: null,
    ...(owner ? { owner } : {}),
  };
}

const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function validateCommand(raw: Record<string, unknown>, path: string): ApiReply | undefined {
  const type = Number(raw.type ?? 1);
  const name = raw.name;
  if (typeof name !== "string" || !COMMAND_NAME.test(name) || (type === 1 && name !== name.toLowerCase())) {
    return errorReply(
      DiscordError.InvalidFormBody,
      fieldError(`${path}name`, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"),
    );
  }
  const description = raw.description;
  if (type === 1 && (typeof description !== "string" || description.length < 1 || description.length > 100)) {
    return errorReply(
      DiscordError.InvalidFormBody,
      fieldError(`${path}description`, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
    );
  }
  return undefined;
}

function toCommand(
  ctx: DoubleContext,
  key: string,
  raw: Record<string, unknown>,
  existing?: RegisteredCommand,
): RegisteredCommand {
  return {
    id: existing?.id ?? snowflake(),
    application_id: ctx.world.applicationId,
    version: snowflake(),
    default_member_permissions: null,
    type: 1,
    description: "",
    dm_permission: true,
    contexts: null,
    integration_types: [0],
    nsfw: false,
    ...raw,
    name: raw.name as string,
    ...(key === "global" ? {} : { guild_id: key }),
  } as RegisteredCommand;
}

function overwriteCommands(ctx: DoubleContext, key: string, req: RouteRequest): ApiReply {
  if (!Array.isArray(req.rawJson)) return errorReply(DiscordError.InvalidFormBody, {});
  const list = req.rawJson as Record<string, unknown>[];
  for (const [i, raw] of list.entries()) {
    const invalid = validateCommand(raw, `${i}.`);
    if (invalid) return invalid;
  }
  const before = ctx.commands.get(key) ?? [];
  // Bulk overwrite keeps the ids of commands whose name and type are unchanged.
  const next = list.map((raw) =>
    toCommand(
      ctx,
      key,
      raw,
      before.find((c) => c.name === raw.name && (c.type ?? 1) === Number(raw.type ?? 1)),
    ),
  );
  ctx.commands.set(key, next);
  return { status: 200, body: next };
}

function createCommand(ctx: DoubleContext, key: string, req: RouteRequest): ApiReply {
  const invalid = validateCommand(req.json, "");
  if (invalid) return invalid;
  const list = ctx.commands.get(key) ?? [];
  const existing = list.find((c) => c.name === req.json.name && (c.type ?? 1) === Number(req.json.type ?? 1));
  const command = toCommand(ctx, key, req.json, existing);
  ctx.commands.set(key, [...list.filter((c) => c !== existing), command]);
  // 201 for a new command, 200 when it replaced one with the same name.
  return { status: existing ? 200 : 201, body: command };
}

function postMessage(ctx: DoubleContext, channelId: string, req: RouteRequest): ApiReply {
  const reference = req.json.message_reference as { message_id?: string } | undefined;
  const created = ctx.messages.create(req.json, req.files, {
    channelId,
    guildId: ctx.world.guildId,
    author: ctx.world.botUser,
    // REPLY (19) when it references a message, DEFAULT otherwise.
    type: reference?.message_id ? 19 : 0,
    attachmentSizeLimit: ctx.limits.attachmentSizeLimit,
  });
  if ("status" in created) return created;
  // Channel messages cannot be ephemeral.
  created.ephemeral = false;
  created.flags &= ~64;
  emitMessage(ctx, "MESSAGE_CREATE", created);
  return { status: 200, body: apiMessage(ctx, created) };
}

function react(ctx: DoubleContext, m: MessageState, emoji: string, add: boolean): ApiReply {
  const users = m.reactions.get(emoji) ?? new Set<string>();
  const userId = ctx.world.botUser.id;
  const changed = add ? !users.has(userId) : users.has(userId);
  if (add) users.add(userId);
  else users.delete(userId);
  m.reactions.set(emoji, users);
  if (changed) emitReaction(ctx, add ? "MESSAGE_REACTION_ADD" : "MESSAGE_REACTION_REMOVE", m, emoji, userId);
  return { status: 204 };
}
