/**
 * REST plumbing: `/api/v10` routing, bot-token auth, body parsing, request recording, injected
 * failures, and Discord-style replies (JSON bodies, rate-limit headers on every response).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseBody, readBody } from "./body.js";
import {
  type ApiReply,
  DiscordError,
  errorReply,
  httpReply,
  type InjectedError,
  type InjectionMatch,
  injectedReply,
  routeMatches,
} from "./errors.js";
import type { RecordedFile } from "./messages.js";

export const API_PREFIX = "/api/v10";

export interface RecordedRequest {
  method: string;
  /** Path after `/api/v10`, exactly as sent (interaction/webhook tokens included). */
  path: string;
  /** `path` percent-decoded, with interaction/webhook tokens replaced by `:token`. */
  route: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body, or `payload_json` of a multipart body. */
  json?: unknown;
  files: RecordedFile[];
  /** Arrival time, ms since epoch. */
  at: number;
  status: number;
  /** The JSON the double answered with, if any. */
  response?: unknown;
}

export interface RouteRequest {
  json: Record<string, unknown>;
  rawJson: unknown;
  files: RecordedFile[];
  query: URLSearchParams;
}

export type Params = Record<string, string>;
export type Handler = (params: Params, req: RouteRequest) => ApiReply | Promise<ApiReply>;

export interface RouteDef {
  method: string;
  /** Path template after /api/v10; `:name` segments capture. */
  template: string;
  /** Whether `Authorization: Bot <token>` is required (interaction/webhook-token routes are not). */
  auth: boolean;
  handler: Handler;
}

interface Injection {
  match: InjectionMatch;
  error: InjectedError;
  remaining: number;
  /** For an outage (`forMs`): matching requests fail until this time. */
  until?: number;
}

export class RestServer {
  readonly requests: RecordedRequest[] = [];
  private readonly injections: Injection[] = [];
  private readonly listeners = new Set<(r: RecordedRequest) => void>();

  constructor(
    private readonly routes: RouteDef[],
    private readonly token: string,
  ) {}

  inject(match: InjectionMatch, error: InjectedError): void {
    const until = match.forMs === undefined ? undefined : Date.now() + match.forMs;
    this.injections.push({
      match,
      error,
      remaining: until === undefined ? (match.times ?? 1) : Infinity,
      until,
    });
  }

  clearInjections(): void {
    this.injections.length = 0;
  }

  onRecord(listener: (r: RecordedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://double");
    const path = url.pathname.slice(API_PREFIX.length) || "/";
    const method = (req.method ?? "GET").toUpperCase();
    const route = tokenlessRoute(decodePath(path));
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    const raw = await readBody(req);
    const parsed =
      raw === undefined
        ? errorReply(DiscordError.RequestEntityTooLarge)
        : await parseBody(raw, headers["content-type"]);
    const body = "status" in parsed ? undefined : parsed;
    const record: RecordedRequest = {
      method,
      path,
      route,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(body?.json !== undefined ? { json: body.json } : {}),
      files: body?.files ?? [],
      at,
      status: 0,
    };

    let reply: ApiReply;
    const injected = this.takeInjection(method, route);
    if (injected) reply = injectedReply(injected, bucketOf(method, route));
    else if (!body) reply = parsed as ApiReply;
    else reply = await this.route(method, path, headers.authorization, body, url.searchParams);

    record.status = reply.status;
    if (reply.body !== undefined) record.response = reply.body;
    this.requests.push(record);
    for (const listener of this.listeners) listener(record);
    send(res, reply, bucketOf(method, route));
  }

  private takeInjection(method: string, route: string): InjectedError | undefined {
    const found = this.injections.find(
      (i) =>
        i.remaining > 0 &&
        (i.until === undefined || Date.now() < i.until) &&
        (i.match.method === undefined || i.match.method.toUpperCase() === method) &&
        routeMatches(i.match.route, route),
    );
    if (!found) return undefined;
    found.remaining--;
    return found.error;
  }

  private async route(
    method: string,
    path: string,
    authorization: string | undefined,
    body: { json?: unknown; files: RecordedFile[] },
    query: URLSearchParams,
  ): Promise<ApiReply> {
    const segments = decodePath(path).split("/");
    let pathMatched = false;
    for (const def of this.routes) {
      const params = matchTemplate(def.template, segments);
      if (!params) continue;
      pathMatched = true;
      if (def.method !== method) continue;
      if (def.auth && authorization !== `Bot ${this.token}`) return httpReply(401);
      const json =
        body.json && typeof body.json === "object" && !Array.isArray(body.json)
          ? (body.json as Record<string, unknown>)
          : {};
      return def.handler(params, { json, rawJson: body.json, files: body.files, query });
    }
    return httpReply(pathMatched ? 405 : 404);
  }
}

function matchTemplate(template: string, segments: string[]): Params | undefined {
  const parts = template.split("/");
  if (parts.length !== segments.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const seg = segments[i]!;
    if (part.startsWith(":")) params[part.slice(1)] = seg;
    else if (part !== seg) return undefined;
  }
  return params;
}

/** Percent-decodes each segment (clients send "@original" as "%40original", emoji encoded). */
function decodePath(path: string): string {
  return path
    .split("/")
    .map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        return seg;
      }
    })
    .join("/");
}

/** Replaces the token segment of interaction-callback and webhook paths with ":token". */
export function tokenlessRoute(path: string): string {
  return path
    .replace(/^\/interactions\/(\d+)\/[^/]+\/callback$/, "/interactions/$1/:token/callback")
    .replace(/^\/webhooks\/(\d+)\/[^/]+(\/|$)/, "/webhooks/$1/:token$2");
}

function bucketOf(method: string, route: string): string {
  // Buckets are opaque per-route hashes that exclude top-level ids.
  const shape = route.replace(/\d{15,}/g, ":id");
  return createHash("sha1").update(`${method} ${shape}`).digest("hex").slice(0, 32);
}

function send(res: ServerResponse, reply: ApiReply, bucket: string): void {
  const headers: Record<string, string> =
    reply.status === 429
      ? {}
      : {
          "X-RateLimit-Limit": "5",
          "X-RateLimit-Remaining": "4",
          "X-RateLimit-Reset": (Date.now() / 1000 + 1).toFixed(3),
          "X-RateLimit-Reset-After": "1.000",
          "X-RateLimit-Bucket": bucket,
        };
  Object.assign(headers, reply.headers);
  if (reply.body === undefined) {
    res.writeHead(reply.status === 200 ? 204 : reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}
