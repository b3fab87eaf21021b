/**
 * Gateway v10 over WebSocket, JSON encoding, uncompressed text frames
 * (https://discord.com/developers/docs/events/gateway): Hello, Identify → READY (+ GUILD_CREATE),
 * Heartbeat/ACK, Resume → replay + RESUMED, Request Guild Members, close codes.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";

export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** Intent bits the double filters its own dispatches by. */
export const Intent = { Guilds: 1 << 0, GuildMessages: 1 << 9, GuildMessageReactions: 1 << 10 } as const;

export interface GatewayFrame {
  dir: "in" | "out";
  op: number;
  t?: string | null;
  s?: number | null;
  d?: unknown;
  at: number;
  sessionId?: string;
}

export interface GatewayConnection {
  /** Request path and query, e.g. "/?v=10&encoding=json" or "/resume?v=10&encoding=json". */
  path: string;
  at: number;
  closeCode?: number;
  closedBy?: "client" | "server";
}

export interface GatewaySession {
  id: string;
  /** [shard id, shard count] from IDENTIFY ([0, 1] unsharded). */
  shard: [number, number];
  intents: number;
  seq: number;
  identify: Record<string, unknown>;
  resumes: number;
  /** Invalidated sessions cannot be resumed and receive no dispatches. */
  invalidated: boolean;
  socket?: WebSocket;
  /** Dispatches kept for replay on RESUME. */
  sent: { s: number; t: string; d: unknown }[];
}

export interface GatewayHooks {
  token: string;
  heartbeatIntervalMs: number;
  resumeUrl(): string;
  readyPayload(session: GatewaySession, guildIds: string[]): Record<string, unknown>;
  guildCreatePayload(guildId: string): Record<string, unknown>;
  guildMembers(guildId: string, query: string, limit: number, userIds?: string[]): unknown[];
  /** Every guild the bot is in; a session gets those of its shard. */
  guildIds(): string[];
  onReady(session: GatewaySession): void;
}

const REPLAY_BUFFER = 1000;

export class Gateway {
  readonly frames: GatewayFrame[] = [];
  readonly connections: GatewayConnection[] = [];
  readonly sessions = new Map<string, GatewaySession>();
  /** Set to false to stop answering heartbeats (zombie-connection tests). */
  ackHeartbeats = true;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly hooks: GatewayHooks) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req.url ?? "/"));
  }

  /**
   * Sends a dispatch to every live (identified, not invalidated) session of the shard Discord routes it
   * to: a guild's events go to shard (guild_id >> 22) % count, the rest (direct messages) to shard 0.
   * Returns how many sessions got it.
   */
  dispatch(t: string, d: unknown, requiredIntent?: number): number {
    let delivered = 0;
    // Guild events carry guild_id; GUILD_CREATE/UPDATE/DELETE carry the guild's own id.
    const data = d as { guild_id?: unknown; id?: unknown } | null;
    const guildId = t.startsWith("GUILD_") && data?.guild_id === undefined ? data?.id : data?.guild_id;
    for (const session of this.sessions.values()) {
      if (session.invalidated) continue;
      const [shard, count] = session.shard;
      if (shard !== (typeof guildId === "string" ? shardOf(guildId, count) : 0)) continue;
      if (requiredIntent !== undefined && (session.intents & requiredIntent) === 0) continue;
      this.dispatchTo(session, t, d);
      delivered++;
    }
    return delivered;
  }

  hasSession(): boolean {
    for (const s of this.sessions.values()) if (!s.invalidated) return true;
    return false;
  }

  /** Closes every open gateway socket from the server side with `code`. */
  disconnect(code = 4000, reason = "discord double: forced disconnect"): void {
    for (const session of this.sessions.values()) {
      // 4007/4009 (and 1000/1001) end the session: the client must identify anew.
      if ([1000, 1001, 4007, 4009].includes(code)) session.invalidated = true;
    }
    for (const ws of this.sockets) {
      this.markClosed(ws, code, "server");
      ws.close(code, reason);
    }
  }

  /** Op 7: asks clients to reconnect and resume. */
  requestReconnect(): void {
    this.broadcast({ op: Op.Reconnect, d: null, s: null, t: null });
  }

  /** Op 9: invalid session; `resumable` is its `d`. */
  invalidateSession(resumable: boolean): void {
    if (!resumable) for (const s of this.sessions.values()) s.invalidated = true;
    this.broadcast({ op: Op.InvalidSession, d: resumable, s: null, t: null });
  }

  /** Op 1 from the server: the client must heartbeat at once. */
  requestHeartbeat(): void {
    this.broadcast({ op: Op.Heartbeat, d: null, s: null, t: null });
  }

  close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private broadcast(payload: { op: number; d: unknown; s: null; t: null }): void {
    for (const ws of this.sockets) this.send(ws, payload);
  }

  private onConnection(ws: WebSocket, path: string): void {
    const connection: GatewayConnection = { path, at: Date.now() };
    this.connections.push(connection);
    this.sockets.add(ws);
    let session: GatewaySession | undefined;
    connectionOf.set(ws, connection);

    ws.on("close", (code) => {
      this.sockets.delete(ws);
      this.markClosed(ws, code, "client");
      if (session?.socket === ws) {
        session.socket = undefined;
        // A client closing with 1000/1001 ends its session (docs: "Disconnecting").
        if (connection.closedBy === "client" && (code === 1000 || code === 1001)) session.invalidated = true;
      }
    });
    ws.on("error", () => {});

    const query = new URL(path, "ws://double").searchParams;
    if (query.get("v") !== "10") {
      this.closeWith(ws, 4012, "Invalid API version");
      return;
    }
    if ((query.get("encoding") ?? "json") !== "json") {
      this.closeWith(ws, 4002, "Decode error");
      return;
    }

    this.send(ws, {
      op: Op.Hello,
      d: { heartbeat_interval: this.hooks.heartbeatIntervalMs },
      s: null,
      t: null,
    });

    ws.on("message", (raw: RawData, isBinary: boolean) => {
      let payload: { op?: unknown; d?: unknown };
      try {
        if (isBinary) throw new Error("binary frames are not JSON");
        payload = JSON.parse(raw.toString());
      } catch {
        return this.closeWith(ws, 4002, "Decode error");
      }
      this.frames.push({
        dir: "in",
        op: payload.op as number,
        d: payload.d,
        at: Date.now(),
        sessionId: session?.id,
      });
      const d = payload.d as Record<string, unknown> | null;
      switch (payload.op) {
        case Op.Heartbeat:
          if (this.ackHeartbeats) this.send(ws, { op: Op.HeartbeatAck, d: null, s: null, t: null }, session);
          return;
        case Op.Identify:
          if (session) return this.closeWith(ws, 4005, "Already authenticated");
          session = this.identify(ws, d ?? {});
          return;
        case Op.Resume:
          if (session) return this.closeWith(ws, 4005, "Already authenticated");
          session = this.resume(ws, d ?? {});
          return;
        case Op.PresenceUpdate:
        case Op.VoiceStateUpdate:
          if (!session) return this.closeWith(ws, 4003, "Not authenticated");
          return;
        case Op.RequestGuildMembers:
          if (!session) return this.closeWith(ws, 4003, "Not authenticated");
          return this.requestGuildMembers(session, d ?? {});
        default:
          return this.closeWith(ws, 4001, "Unknown opcode");
      }
    });
  }

  private identify(ws: WebSocket, d: Record<string, unknown>): GatewaySession | undefined {
    if (d.token !== this.hooks.token) {
      this.closeWith(ws, 4004, "Authentication failed");
      return undefined;
    }
    if (typeof d.intents !== "number" || !Number.isInteger(d.intents) || d.intents < 0) {
      this.closeWith(ws, 4013, "Invalid intent(s)");
      return undefined;
    }
    const shard = (Array.isArray(d.shard) ? d.shard : [0, 1]) as [number, number];
    const [shardId, count] = shard;
    if (
      !Number.isInteger(count) ||
      count < 1 ||
      !Number.isInteger(shardId) ||
      shardId < 0 ||
      shardId >= count
    ) {
      this.closeWith(ws, 4010, "Invalid shard");
      return undefined;
    }
    const session: GatewaySession = {
      id: randomBytes(16).toString("hex"),
      shard,
      intents: d.intents,
      seq: 0,
      identify: d,
      resumes: 0,
      invalidated: false,
      socket: ws,
      sent: [],
    };
    this.sessions.set(session.id, session);
    const guildIds = this.hooks.guildIds().filter((id) => shardOf(id, count) === shardId);
    this.dispatchTo(session, "READY", this.hooks.readyPayload(session, guildIds));
    if (session.intents & Intent.Guilds)
      for (const id of guildIds) this.dispatchTo(session, "GUILD_CREATE", this.hooks.guildCreatePayload(id));
    this.hooks.onReady(session);
    return session;
  }

  private resume(ws: WebSocket, d: Record<string, unknown>): GatewaySession | undefined {
    const session = typeof d.session_id === "string" ? this.sessions.get(d.session_id) : undefined;
    if (d.token !== this.hooks.token) {
      this.closeWith(ws, 4004, "Authentication failed");
      return undefined;
    }
    if (!session || session.invalidated) {
      // Not resumable: the client must identify anew after this.
      this.send(ws, { op: Op.InvalidSession, d: false, s: null, t: null });
      return undefined;
    }
    const seq = typeof d.seq === "number" ? d.seq : -1;
    const oldest = session.sent[0]?.s ?? session.seq + 1;
    if (seq > session.seq || seq < oldest - 1) {
      session.invalidated = true;
      this.closeWith(ws, 4007, "Invalid seq");
      return undefined;
    }
    session.socket?.terminate();
    session.resumes++;
    // Replay what the client missed, then RESUMED, before live traffic resumes.
    for (const e of session.sent)
      if (e.s > seq) this.send(ws, { op: Op.Dispatch, t: e.t, s: e.s, d: e.d }, session);
    session.socket = ws;
    this.dispatchTo(session, "RESUMED", {});
    return session;
  }

  private requestGuildMembers(session: GatewaySession, d: Record<string, unknown>): void {
    const guildId = d.guild_id;
    if (typeof guildId !== "string" || !this.hooks.guildIds().includes(guildId)) return;
    if (shardOf(guildId, session.shard[1]) !== session.shard[0]) return;
    const members = this.hooks.guildMembers(
      guildId,
      typeof d.query === "string" ? d.query : "",
      typeof d.limit === "number" && d.limit > 0 ? d.limit : Number.POSITIVE_INFINITY,
      Array.isArray(d.user_ids) ? (d.user_ids as string[]) : undefined,
    );
    const found = new Set(members.map((m) => (m as { user: { id: string } }).user.id));
    const notFound = Array.isArray(d.user_ids) ? (d.user_ids as string[]).filter((id) => !found.has(id)) : [];
    this.dispatchTo(session, "GUILD_MEMBERS_CHUNK", {
      guild_id: guildId,
      members,
      chunk_index: 0,
      chunk_count: 1,
      ...(notFound.length ? { not_found: notFound } : {}),
      ...(d.nonce !== undefined ? { nonce: d.nonce } : {}),
    });
  }

  private dispatchTo(session: GatewaySession, t: string, d: unknown): void {
    const s = ++session.seq;
    session.sent.push({ s, t, d });
    if (session.sent.length > REPLAY_BUFFER) session.sent.shift();
    if (session.socket) this.send(session.socket, { op: Op.Dispatch, t, s, d }, session);
  }

  private send(
    ws: WebSocket,
    payload: { op: number; d: unknown; s: number | null; t: string | null },
    session?: GatewaySession,
  ): void {
    if (ws.readyState !== ws.OPEN) return;
    this.frames.push({ dir: "out", ...payload, at: Date.now(), sessionId: session?.id });
    ws.send(JSON.stringify(payload));
  }

  private closeWith(ws: WebSocket, code: number, reason: string): void {
    this.markClosed(ws, code, "server");
    ws.close(code, reason);
  }

  private markClosed(ws: WebSocket, code: number, by: "client" | "server"): void {
    const connection = connectionOf.get(ws);
    if (connection && connection.closeCode === undefined) {
      connection.closeCode = code;
      connection.closedBy = by;
    }
  }
}

const connectionOf = new WeakMap<WebSocket, GatewayConnection>();

/** The shard Discord sends a guild's events to (https://discord.com/developers/docs/events/gateway#sharding). */
export function shardOf(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

export function readyPayloadFor(
  session: GatewaySession,
  parts: { user: unknown; guildIds: string[]; applicationId: string; resumeUrl: string },
): Record<string, unknown> {
  return {
    v: 10,
    user_settings: {},
    user: { ...(parts.user as object), verified: true, mfa_enabled: false, email: null },
    guilds: parts.guildIds.map((id) => ({ id, unavailable: true })),
    session_id: session.id,
    resume_gateway_url: parts.resumeUrl,
    session_type: "normal",
    private_channels: [],
    relationships: [],
    presences: [],
    geo_ordered_rtc_regions: [],
    guild_join_requests: [],
    shard: session.shard,
    application: { id: parts.applicationId, flags: 0 },
    _trace: ['["discord-double",{"micros":0}]'],
  };
}
