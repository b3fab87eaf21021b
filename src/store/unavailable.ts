/**
 * The database refusing for now: locked by another connection, the disk full, or an I/O error. Such
 * failures pass by themselves, so queued writes retry them; a member's direct action reports them instead.
 */

export type UnavailableReason = "busy" | "full" | "io";

const REASONS: readonly [prefix: string, reason: UnavailableReason][] = [
  ["SQLITE_BUSY", "busy"],
  ["SQLITE_LOCKED", "busy"],
  ["SQLITE_PROTOCOL", "busy"], // a WAL lock race
  ["SQLITE_FULL", "full"],
  ["SQLITE_IOERR", "io"],
];

const MESSAGES: Record<UnavailableReason, string> = {
  busy: "the database is locked by another connection",
  full: "the disk holding the database is full",
  io: "the database file could not be read or written (I/O error)",
};

export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";

  constructor(
    readonly reason: UnavailableReason,
    detail?: string,
    options?: ErrorOptions,
  ) {
    super(detail ? `${MESSAGES[reason]}: ${detail}` : MESSAGES[reason], options);
  }

  /** A transient SQLite error as a StoreUnavailableError (with it as the cause); anything else unchanged. */
  static wrap(error: unknown): unknown {
    if (error instanceof StoreUnavailableError) return error;
    const reason = unavailableReason(error);
    return reason ? new StoreUnavailableError(reason, undefined, { cause: error }) : error;
  }
}

function unavailableReason(error: unknown): UnavailableReason | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return undefined;
  return REASONS.find(([prefix]) => code.startsWith(prefix))?.[1];
}

export function isTransientStoreError(error: unknown): boolean {
  return error instanceof StoreUnavailableError || unavailableReason(error) !== undefined;
}
