import { DiscordAPIError, HTTPError, RateLimitError } from "discord.js";

/**
 * An error as a log field, without what discord.js errors carry that must never reach a log: request URLs
 * (interaction webhook URLs embed the interaction token) and request bodies (members' content).
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError) {
    return {
      type: "DiscordAPIError",
      code: error.code,
      status: error.status,
      method: error.method,
      message: error.message,
    };
  }
  if (error instanceof RateLimitError) {
    return {
      type: "RateLimitError",
      method: error.method,
      retryAfterMs: error.retryAfter,
      scope: error.scope,
      global: error.global,
    };
  }
  if (error instanceof HTTPError) {
    return { type: "HTTPError", status: error.status, method: error.method, message: error.message };
  }
  if (error instanceof Error) return { type: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}
