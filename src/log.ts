import pino, { type DestinationStream, type Logger } from "pino";
import { loggableError } from "./loggable-error.js";

/**
 * One pino logger for the whole process. Redaction is belt and braces: code must not log secrets in the
 * first place, but a Discord token or an interaction token inside a webhook URL must never reach a log
 * line even if an object carrying one is logged by mistake. The level comes from the caller (LOG_LEVEL is
 * read by src/config.ts).
 *
 * Errors are logged as `{ err: error }` (or any other key): every Error value becomes its message, code,
 * status and stack (loggable-error.ts) before the line is scrubbed, the same for every layer.
 */
const SECRET_PATTERNS: RegExp[] = [
  // webhooks/<application id>/<interaction token>
  /(webhooks\/\d+\/)[A-Za-z0-9._-]+/g,
  // interactions/<id>/<interaction token>/callback
  /(interactions\/\d+\/)[A-Za-z0-9._-]+/g,
  // Bot tokens: three base64url parts separated by dots.
  /()[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}/g,
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, "$1[redacted]");
  return out;
}

export function createLogger(
  options: { level?: string; name?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      name: options.name ?? "stylize",
      level: options.level ?? "info",
      // pino's own err serializer would re-read the already serialized error as an "Object".
      serializers: { err: (value: unknown) => (value instanceof Error ? loggableError(value) : value) },
      redact: {
        paths: ["token", "*.token", "headers.authorization", "*.headers.authorization"],
        censor: "[redacted]",
      },
      hooks: {
        // Scrub every string argument (messages and interpolations) before pino formats it.
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === "string" ? scrubSecrets(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      formatters: {
        // Runs before pino's serializers: an Error must become a plain object here, or JSON drops it as {}.
        log(object) {
          return JSON.parse(scrubSecrets(JSON.stringify(withErrorsSerialized(object)))) as Record<
            string,
            unknown
          >;
        },
      },
    },
    options.destination,
  );
}

function withErrorsSerialized(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    out[key] = value instanceof Error ? loggableError(value) : value;
  }
  return out;
}

export type { Logger };
