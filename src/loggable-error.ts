/**
 * An error as a log field, the same for every layer (engine, jobs, store, bot, CLI). createLogger applies it
 * to every Error it is handed, so `{ err: error }` is enough; code that may hold a Discord error (the bot)
 * logs `{ err: loggableError(error) }`, safe whatever logger it is given (tests use a plain pino).
 *
 * It copies an allow-list of fields, never the whole object: discord.js errors carry the request URL
 * (an interaction webhook URL embeds the interaction token) and the request body (members' content), and
 * neither must reach a log. The logger still scrubs tokens from what is copied (message and stack).
 */

export interface LoggedError {
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string | number;
  readonly status?: number;
  readonly [detail: string]: unknown;
}

/** Safe, useful details that errors of Node, SQLite, fetch and discord.js carry besides message and stack. */
const DETAILS = [
  "code", // Node (ENOSPC), SQLite (SQLITE_BUSY), Discord API (10062)
  "status", // HTTP status of a Discord API or HTTP error
  "method", // HTTP method of a failed Discord request
  "errno",
  "syscall",
  "path", // the file a Node fs error is about
  "retryAfter", // discord.js RateLimitError, ms
  "global",
  "scope",
  "retryable",
] as const;

/** Causes nest; a loop or a very deep chain is cut here. */
const MAX_CAUSE_DEPTH = 3;

export function loggableError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) {
    return { type: typeof error, message: typeof error === "string" ? error : safeString(error) };
  }
  const fields: Record<string, unknown> = {
    // DiscordAPIError's name is "DiscordAPIError[10062]": the code is logged on its own.
    type: error.name.replace(/\[\w+\]$/, ""),
    message: error.message,
  };
  for (const key of DETAILS) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined && value !== null && typeof value !== "object" && typeof value !== "function") {
      fields[key] = value;
    }
  }
  fields.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH)
    fields.cause = loggableError(error.cause, depth + 1);
  if (error instanceof AggregateError && depth < MAX_CAUSE_DEPTH) {
    fields.errors = error.errors.slice(0, 5).map((inner: unknown) => loggableError(inner, depth + 1));
  }
  return fields as unknown as LoggedError;
}

function safeString(value: unknown): string {
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
