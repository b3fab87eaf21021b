/**
 * A loopback Discord double: gateway v10 (WebSocket, JSON) + REST v10 + attachment CDN on one
 * 127.0.0.1 port, enough for an unchanged discord.js v14 Client:
 *
 *   const double = await startDiscordDouble();
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: double.apiBase } });
 *   await client.login(double.token);   // GET /gateway/bot → ws://127.0.0.1:PORT → READY + GUILD_CREATE
 *   ...
 *   await client.destroy(); await double.close();
 *
 * @discordjs/rest builds `${api}/v10${route}`, so `apiBase` is "http://127.0.0.1:PORT/api"; the
 * gateway URL comes from GET /gateway/bot and the resume URL from READY's resume_gateway_url.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIAttachment } from "discord.js";
import { Cdn } from "./cdn.js";
import type { DoubleContext, Limits } from "./context.js";
import type { InjectedError, InjectionMatch } from "./errors.js";
import { guildCreatePayload, makeWorld, type World, type WorldOptions } from "./fixtures.js";
import { Gateway, readyPayloadFor } from "./gateway.js";
import {
  type AutocompleteInput,
  baseInteraction,
  type CommandInput,
  type ComponentInput,
  commandData,
  type InteractionCallback,
  type InteractionState,
  InteractionType,
  type ModalInput,
  type RegisteredCommand,
  resolveInvoker,
  type SentInteraction,
} from "./interactions.js";
import { type MessageState, MessageStore, toApiMessage } from "./messages.js";
import { API_PREFIX, type RecordedRequest, RestServer } from "./rest.js";
import { interactionRoutes } from "./routes-interactions.js";
import { resourceRoutes } from "./routes-resources.js";

export type { InjectedError, InjectionMatch } from "./errors.js";
export type { GatewayConnection, GatewayFrame, GatewaySession } from "./gateway.js";
export type {
  AutocompleteInput,
  CommandInput,
  CommandOptionInput,
  ComponentInput,
  InteractionCallback,
  InteractionState,
  ModalInput,
  SentInteraction,
} from "./interactions.js";
export type { MessageEdit, MessageState, RecordedFile, StoredAttachment } from "./messages.js";
export type { RecordedRequest } from "./rest.js";

export interface DiscordDoubleOptions extends WorldOptions {
  /** Sent in Hello; Discord uses 41 250 ms. Lower it to see heartbeats in a short test. */
  heartbeatIntervalMs?: number;
  /** Time allowed to acknowledge an interaction; Discord: 3000 ms. */
  interactionDeadlineMs?: number;
  /** Interaction token lifetime; Discord: 15 minutes. */
  interactionTokenTtlMs?: number;
  /** Per-file upload limit in bytes; Discord's default is 10 MiB. */
  attachmentSizeLimit?: number;
  /** `ready` rejects if no client is READY within this time (default 20 s). */
  readyTimeoutMs?: number;
  /**
   * Guilds the bot is in (default 1). Guild k's id is k more than the first's in its shard bits
   * (id >> 22), so with n shards guilds 0..n-1 land on n different shards. Each has its own channel;
   * members, bot and application are the same.
   */
  guilds?: number;
}

export interface HostAttachmentOptions {
  filename: string;
  contentType?: string;
  description?: string;
  /** URL lifetime; after it the CDN answers 404 like Discord's (default 24 h). */
  expiresInMs?: number;
  /** Channel id in the URL path (default: the double's channel). */
  channelId?: string;
}

export class DiscordDouble {
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  readonly channelId: string;
  readonly botUserId: string;
  /** The first guild's world (the default for everything). */
  readonly world: World;
  /** Every guild's world, the first one first. */
  readonly worlds: World[];
  readonly gateway: Gateway;
  /** Messages by id, including deleted ones (`deleted: true`). */
  readonly messages: Map<string, MessageState>;
  /** Interactions the double sent, by id. */
  readonly interactions = new Map<string, InteractionState>();
  /** Registered application commands: key "global" or a guild id. */
  readonly commands = new Map<string, RegisteredCommand[]>();
  /** Resolves once a client has identified and received READY (+ GUILD_CREATE with the Guilds intent). */
  readonly ready: Promise<void>;

  private readonly server: Server;
  private readonly rest: RestServer;
  private readonly cdn: Cdn;
  private readonly store: MessageStore;
  private readonly limits: Limits;
  private readonly ctx: DoubleContext;
  private readonly interactionsByToken = new Map<string, InteractionState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private port = 0;
  private markReady!: () => void;

  constructor(options: DiscordDoubleOptions = {}) {
    this.world = makeWorld(options);
    this.worlds = [this.world];
    for (let k = 1; k < (options.guilds ?? 1); k++) {
      const guildId = (BigInt(this.world.guildId) + (BigInt(k) << 22n)).toString();
      this.worlds.push(
        makeWorld({
          ...options,
          guildId,
          channelId: undefined,
          applicationId: this.world.applicationId,
          botUserId: this.world.botUser.id,
        }),
      );
    }
    this.applicationId = this.world.applicationId;
    this.guildId = this.world.guildId;
    this.channelId = this.world.channelId;
    this.botUserId = this.world.botUser.id;
    // Bot tokens are base64(user id) . base64(timestamp) . HMAC; clients only check the shape.
    this.token = [
      Buffer.from(this.botUserId).toString("base64url"),
      randomBytes(4).toString("base64url").slice(0, 6),
      randomBytes(28).toString("base64url").slice(0, 38),
    ].join(".");
    this.limits = {
      deadlineMs: options.interactionDeadlineMs ?? 3000,
      tokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60 * 1000,
      attachmentSizeLimit: options.attachmentSizeLimit ?? 10 * 1024 * 1024,
    };
    this.cdn = new Cdn(() => this.origin);
    this.store = new MessageStore(this.cdn);
    this.messages = this.store.byId;

    let readyTimer: NodeJS.Timeout | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = () => {
        if (readyTimer) clearTimeout(readyTimer);
        resolve();
      };
      const ms = options.readyTimeoutMs ?? 20_000;
      readyTimer = this.timer(ms, () =>
        reject(new Error(`discord double: no client became READY within ${ms} ms`)),
      );
    });
    this.ready.catch(() => {});

    this.gateway = new Gateway({
      token: this.token,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      guildIds: () => this.worlds.map((w) => w.guildId),
      resumeUrl: () => `${this.origin.replace(/^http/, "ws")}/resume`,
      readyPayload: (session, guildIds) =>
        readyPayloadFor(session, {
          user: this.world.botUser,
          guildIds,
          applicationId: this.applicationId,
          resumeUrl: `${this.origin.replace(/^http/, "ws")}/resume`,
        }),
      guildCreatePayload: (guildId) => guildCreatePayload(this.worldOf(guildId)),
      guildMembers: (guildId, query, limit, userIds) =>
        [...this.worldOf(guildId).members.values()]
          .filter((m) => (userIds ? userIds.includes(m.user.id) : m.user.username.startsWith(query)))
          .slice(0, limit)
          .map((m) => m.member),
      onReady: () => this.markReady(),
    });

    this.ctx = {
      world: this.world,
      token: this.token,
      messages: this.store,
      interactionsById: this.interactions,
      interactionsByToken: this.interactionsByToken,
      cdn: this.cdn,
      gateway: this.gateway,
      commands: this.commands,
      limits: this.limits,
      origin: () => this.origin,
    };
    this.rest = new RestServer([...interactionRoutes(this.ctx), ...resourceRoutes(this.ctx)], this.token);

    this.server = createServer((req, res) => {
      if (req.url?.startsWith(`${API_PREFIX}/`)) {
        this.rest.handle(req, res).catch((error: unknown) => {
          // A bug in the double (or an aborted upload) must not crash the test process.
          if (res.headersSent || res.destroyed) return;
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: `discord double: ${String(error)}`, code: 0 }));
        });
        return;
      }
      if (this.cdn.serve(req, res)) return;
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "404: Not Found", code: 0 }));
    });
    this.server.on("upgrade", (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Pass as `new Client({ rest: { api: double.apiBase } })`; @discordjs/rest appends `/v10`. */
  get apiBase(): string {
    return `${this.origin}/api`;
  }

  /** What GET /gateway/bot returns. */
  get gatewayUrl(): string {
    return this.origin.replace(/^http/, "ws");
  }

  /** Every REST request, in arrival order (recorded when answered). */
  get requests(): RecordedRequest[] {
    return this.rest.requests;
  }

  /** Stores bytes behind a signed CDN URL and returns the attachment object (for command options). */
  hostAttachment(bytes: Buffer, options: HostAttachmentOptions): APIAttachment {
    return this.cdn.host(bytes, options.channelId ?? this.channelId, {
      filename: options.filename,
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.description ? { description: options.description } : {}),
      ...(options.expiresInMs !== undefined ? { expiresInMs: options.expiresInMs } : {}),
      kind: "ephemeral-attachments",
    });
  }

  /** How many times the CDN served a hosted file's bytes (GET or HEAD), by attachment id. */
  attachmentFetches(attachmentId: string): number {
    return this.cdn.files.get(attachmentId)?.fetches ?? 0;
  }

  /** Dispatches INTERACTION_CREATE type 2 (APPLICATION_COMMAND). */
  sendCommand(input: CommandInput): SentInteraction {
    const registered = this.findCommand(input.name, input.commandType ?? 1, input.guildId);
    const data = commandData(this.worldOf(input.guildId), input, registered);
    return this.sendInteraction(InteractionType.ApplicationCommand, data, input, {
      name: input.name,
      commandType: data.type as number,
    });
  }

  /** Dispatches INTERACTION_CREATE type 4 (APPLICATION_COMMAND_AUTOCOMPLETE) with `focused` set. */
  sendAutocomplete(input: AutocompleteInput): SentInteraction {
    const registered = this.findCommand(input.name, 1, input.guildId);
    const data = commandData(this.worldOf(input.guildId), input, registered, input.focused);
    delete data.resolved;
    return this.sendInteraction(InteractionType.Autocomplete, data, input, {
      name: input.name,
      commandType: 1,
    });
  }

  /** Dispatches INTERACTION_CREATE type 3 (MESSAGE_COMPONENT) for a component on a stored message. */
  clickButton(input: ComponentInput): SentInteraction {
    const message = this.store.get(input.messageId);
    if (!message) throw new Error(`discord double: no message ${input.messageId} to click on`);
    const data = {
      custom_id: input.customId,
      component_type: input.componentType ?? 2,
      ...(input.values ? { values: input.values } : {}),
    };
    const guildId = input.guildId ?? this.worlds.find((w) => w.channelId === message.channel_id)?.guildId;
    return this.sendInteraction(
      InteractionType.MessageComponent,
      data,
      { ...input, channelId: input.channelId ?? message.channel_id, guildId },
      { sourceMessageId: message.id, message: toApiMessage(message, this.botUserId) },
    );
  }

  /** Dispatches INTERACTION_CREATE type 5 (MODAL_SUBMIT) with one text input per field. */
  submitModal(input: ModalInput): SentInteraction {
    const message = input.messageId ? this.store.get(input.messageId) : undefined;
    const data = {
      custom_id: input.customId,
      components: Object.entries(input.fields).map(([custom_id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id, value }],
      })),
    };
    return this.sendInteraction(InteractionType.ModalSubmit, data, input, {
      ...(message ? { sourceMessageId: message.id, message: toApiMessage(message, this.botUserId) } : {}),
    });
  }

  /** Any raw gateway dispatch to every live session; returns how many sessions got it. */
  dispatch(eventName: string, data: unknown): number {
    return this.gateway.dispatch(eventName, data);
  }

  /** State of the original response of an interaction, by its token. */
  originalResponse(interactionToken: string): MessageState | undefined {
    const it = this.interactionsByToken.get(interactionToken);
    return it?.originalMessageId ? this.store.get(it.originalMessageId) : undefined;
  }

  /** First recorded request (already recorded or future) matching `predicate`. */
  waitFor(
    predicate: (r: RecordedRequest) => boolean,
    { timeoutMs = 5000 }: { timeoutMs?: number } = {},
  ): Promise<RecordedRequest> {
    const existing = this.rest.requests.find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = this.timer(timeoutMs, () => {
        off();
        const seen = this.rest.requests
          .slice(-10)
          .map((r) => `${r.method} ${r.route} → ${r.status}`)
          .join("; ");
        reject(
          new Error(`discord double: no matching request within ${timeoutMs} ms (last: ${seen || "none"})`),
        );
      });
      const off = this.rest.onRecord((r) => {
        if (!predicate(r)) return;
        off();
        this.clearTimer(timer);
        resolve(r);
      });
    });
  }

  /** Makes the next `times` (default 1) matching REST requests fail with `error`. */
  injectError(match: InjectionMatch, error: InjectedError): void {
    this.rest.inject(match, error);
  }

  /** How many times a hosted attachment was downloaded (GET or HEAD). */
  downloadsOf(attachmentId: string): number {
    return this.cdn.files.get(attachmentId)?.fetches ?? 0;
  }

  /** Ends every injected failure and outage still pending. */
  clearInjectedErrors(): void {
    this.rest.clearInjections();
  }

  /** Interaction tokens (existing and future) stay valid this long; then webhook calls get 401/50027. */
  interactionTokenExpiry(ms: number): void {
    this.limits.tokenTtlMs = ms;
  }

  /** Closes every gateway socket with `code` (default 4000, resumable) as Discord would. */
  disconnectGateway(code = 4000): void {
    this.gateway.disconnect(code);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const it of this.interactions.values()) it.fail(new Error("discord double closed"));
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A guild's world (the first guild's when `guildId` is absent). */
  worldOf(guildId: string | undefined): World {
    if (guildId === undefined) return this.world;
    const world = this.worlds.find((w) => w.guildId === guildId);
    if (!world) throw new Error(`discord double: no guild ${guildId}`);
    return world;
  }

  /** A command registered in the guild, else in the first guild (tests register there), else globally. */
  private findCommand(name: string, type: number, guildId = this.guildId): RegisteredCommand | undefined {
    const match = (c: RegisteredCommand) => c.name === name && (c.type ?? 1) === type;
    return (
      (this.commands.get(guildId) ?? []).find(match) ??
      (this.commands.get(this.guildId) ?? []).find(match) ??
      (this.commands.get("global") ?? []).find(match)
    );
  }

  private sendInteraction(
    type: number,
    data: Record<string, unknown>,
    input: CommandInput | AutocompleteInput | ComponentInput | ModalInput,
    extra: { name?: string; commandType?: number; sourceMessageId?: string; message?: unknown },
  ): SentInteraction {
    if (!this.gateway.hasSession()) {
      throw new Error("discord double: no identified gateway session (await double.ready first)");
    }
    const world = this.worldOf(input.guildId);
    const invoker = resolveInvoker(world, input);
    const built = baseInteraction(world, type, data, invoker, input, this.limits.attachmentSizeLimit);
    if (extra.message) built.payload.message = extra.message;

    let settle!: (c: InteractionCallback) => void;
    let fail!: (e: Error) => void;
    const response = new Promise<InteractionCallback>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    response.catch(() => {});
    const state: InteractionState = {
      id: built.id,
      token: built.token,
      type,
      createdAt: Date.now(),
      channelId: built.channelId,
      user: invoker.user,
      ...(extra.name ? { name: extra.name } : {}),
      ...(extra.commandType !== undefined ? { commandType: extra.commandType } : {}),
      ...(extra.sourceMessageId ? { sourceMessageId: extra.sourceMessageId } : {}),
      attachmentSizeLimit: this.limits.attachmentSizeLimit,
      payload: built.payload,
      settle: (c) => {
        if (state.timer) this.clearTimer(state.timer);
        settle(c);
      },
      fail,
    };
    const deadline = this.limits.deadlineMs;
    state.timer = this.timer(deadline, () =>
      fail(new Error(`discord double: interaction ${built.id} was not acknowledged within ${deadline} ms`)),
    );
    this.interactions.set(state.id, state);
    this.interactionsByToken.set(state.token, state);
    this.gateway.dispatch("INTERACTION_CREATE", built.payload);
    return { interactionId: built.id, token: built.token, payload: built.payload, response };
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}

export async function startDiscordDouble(options: DiscordDoubleOptions = {}): Promise<DiscordDouble> {
  return new DiscordDouble(options).listen();
}
