/**
 * Discord's JSON error bodies and test-injected failures
 * (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json,
 *  https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit).
 */

export interface ApiReply {
  status: number;
  headers?: Record<string, string>;
  /** JSON body; undefined means no body (204). */
  body?: unknown;
}

/** Codes the double itself produces, with Discord's message text and usual HTTP status. */
export const DiscordError = {
  UnknownChannel: { code: 10003, status: 404, message: "Unknown Channel" },
  UnknownGuild: { code: 10004, status: 404, message: "Unknown Guild" },
  UnknownMember: { code: 10007, status: 404, message: "Unknown Member" },
  UnknownMessage: { code: 10008, status: 404, message: "Unknown Message" },
  UnknownUser: { code: 10013, status: 404, message: "Unknown User" },
  UnknownWebhook: { code: 10015, status: 404, message: "Unknown Webhook" },
  UnknownInteraction: { code: 10062, status: 404, message: "Unknown interaction" },
  RequestEntityTooLarge: { code: 40005, status: 413, message: "Request entity too large" },
  InteractionAlreadyAcknowledged: {
    code: 40060,
    status: 400,
    message: "Interaction has already been acknowledged",
  },
  CannotSendEmptyMessage: { code: 50006, status: 400, message: "Cannot send an empty message" },
  CannotEditOthersMessage: {
    code: 50005,
    status: 403,
    message: "Cannot edit a message authored by another user",
  },
  InvalidWebhookToken: { code: 50027, status: 401, message: "Invalid Webhook Token" },
  InvalidFormBody: { code: 50035, status: 400, message: "Invalid Form Body" },
  InvalidJson: { code: 50109, status: 400, message: "The request body contains invalid JSON." },
} as const;

export type DiscordErrorSpec = (typeof DiscordError)[keyof typeof DiscordError];

export function errorReply(spec: DiscordErrorSpec, errors?: Record<string, unknown>): ApiReply {
  return {
    status: spec.status,
    body: { message: spec.message, code: spec.code, ...(errors ? { errors } : {}) },
  };
}

/** Nested `errors` object of a 50035 reply for one field (Discord's `_errors` layout). */
export function fieldError(path: string, code: string, message: string): Record<string, unknown> {
  let node: Record<string, unknown> = { _errors: [{ code, message }] };
  for (const key of path.split(".").reverse()) node = { [key]: node };
  return node;
}

/** HTTP-level errors that carry Discord's generic bodies. */
export function httpReply(status: 401 | 404 | 405): ApiReply {
  const text = { 401: "401: Unauthorized", 404: "404: Not Found", 405: "405: Method Not Allowed" }[status];
  return { status, body: { message: text, code: 0 } };
}

export type InjectedError =
  | {
      discordCode: 10062 | 40060 | 50027 | 40005 | 50035 | 10008 | 10015;
      httpStatus?: number;
      message?: string;
    }
  | { rateLimit: { retryAfterSeconds: number; global?: boolean; scope?: "user" | "global" | "shared" } }
  | { httpStatus: 500 | 502 | 503 | 504 };

export interface InjectionMatch {
  method?: string;
  /** A RegExp tested against the recorded route, or a route template where `:name` segments match anything. */
  route: RegExp | string;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** An outage instead: every matching request fails for this long (from now); `times` is ignored. */
  forMs?: number;
}

export function injectedReply(error: InjectedError, bucket: string): ApiReply {
  if ("rateLimit" in error) {
    const { retryAfterSeconds, global = false, scope = global ? "global" : "user" } = error.rateLimit;
    const resetAt = Date.now() / 1000 + retryAfterSeconds;
    const headers: Record<string, string> = {
      "Retry-After": String(Math.ceil(retryAfterSeconds)),
      "X-RateLimit-Scope": scope,
    };
    if (global) {
      headers["X-RateLimit-Global"] = "true";
    } else {
      // Per-route 429s also carry the route's bucket headers; global ones do not.
      Object.assign(headers, {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": resetAt.toFixed(3),
        "X-RateLimit-Reset-After": retryAfterSeconds.toFixed(3),
        "X-RateLimit-Bucket": bucket,
      });
    }
    const message =
      scope === "shared" ? "The resource is being rate limited." : "You are being rate limited.";
    return { status: 429, headers, body: { message, retry_after: retryAfterSeconds, global } };
  }
  if ("discordCode" in error) {
    const spec = Object.values(DiscordError).find((s) => s.code === error.discordCode)!;
    return {
      status: error.httpStatus ?? spec.status,
      body: {
        message: error.message ?? spec.message,
        code: spec.code,
        ...(spec.code === 50035 ? { errors: {} } : {}),
      },
    };
  }
  return { status: error.httpStatus, body: { message: `${error.httpStatus}: Server Error`, code: 0 } };
}

export function routeMatches(pattern: RegExp | string, route: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(route);
  const want = pattern
    .replace(/^\/api\/v\d+/, "")
    .replace(/\?.*$/, "")
    .split("/");
  const got = route.split("/");
  return want.length === got.length && want.every((seg, i) => seg.startsWith(":") || seg === got[i]);
}
