import type { PresetLimits } from "../config.js";
import { formatDuration } from "../duration.js";
import type { PresetUsage, Store } from "../store/index.js";
import { UserError } from "./user-error.js";

/**
 * Limits on `/preset add`: submissions waiting for a moderator per member and per server, a cooldown per
 * member and a storage quota per server. They are checked when the command arrives, before the upload is
 * downloaded or decoded, and once more inside the transaction that stores the submission, so simultaneous
 * submissions cannot slip past them together.
 */

/** A submission a limit refused; the message says which and what to do. */
export class PresetLimitError extends UserError {
  constructor(message: string) {
    super("preset_limit", message);
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why `usage` leaves no room for one more submission of `bytes` (0 = not known yet), or undefined. */
export function presetLimitRefusal(
  usage: PresetUsage,
  limits: PresetLimits,
  bytes = 0,
  now = Date.now(),
): string | undefined {
  if (usage.pendingByMember >= limits.pendingPerMember) {
    return `You already have ${usage.pendingByMember} style${usage.pendingByMember === 1 ? "" : "s"} waiting for a moderator here — please wait until they are reviewed before submitting another.`;
  }
  if (usage.pendingInServer >= limits.pendingPerServer) {
    return `This server already has ${usage.pendingInServer} styles waiting for a moderator — please try again once they have been reviewed.`;
  }
  const wait = (usage.lastSubmittedAt ?? -Infinity) + limits.cooldownMs - now;
  // Rounded up: "wait 0 s" would be no answer.
  if (wait > 0)
    return `Please wait ${formatDuration(Math.ceil(wait / 1000) * 1000)} before submitting another style.`;
  const used = `${megabytes(usage.storedBytes)} of the ${megabytes(limits.quotaBytes)} this server may use for community styles`;
  const makeRoom = "a moderator can make room with /preset remove (rejected or unused styles first).";
  if (usage.storedBytes >= limits.quotaBytes)
    return `Community styles here already take ${used} — ${makeRoom}`;
  if (usage.storedBytes + bytes > limits.quotaBytes) {
    return `This painting needs ${megabytes(bytes)}, more than is left (${used} taken) — try a smaller picture, or ${makeRoom}`;
  }
  return undefined;
}

/**
 * The per-process side of the limits: a member's submission in progress counts as their latest one, so a
 * second `/preset add` sent at the same moment meets the cooldown instead of a second download.
 */
export class PresetSubmissionGate {
  readonly #store: Store;
  readonly #limits: PresetLimits;
  readonly #started = new Map<string, number>();

  constructor(store: Store, limits: PresetLimits) {
    this.#store = store;
    this.#limits = limits;
  }

  /** A refusal for the member, or undefined: the submission may go on (and now counts for the cooldown). */
  admit(guildId: string, memberId: string, now = Date.now()): string | undefined {
    const key = `${guildId}:${memberId}`;
    const usage = this.#store.presetUsage(guildId, memberId);
    const started = this.#started.get(key);
    const lastSubmittedAt = Math.max(usage.lastSubmittedAt ?? -Infinity, started ?? -Infinity);
    const refusal = presetLimitRefusal({ ...usage, lastSubmittedAt }, this.#limits, 0, now);
    if (refusal) return refusal;
    this.#started.set(key, now);
    this.#forgetOld(now);
    return undefined;
  }

  /** Stores a submission of `bytes` if the limits still allow it, in one transaction with the check. */
  commit<T>(guildId: string, memberId: string, bytes: number, write: () => T): T {
    return this.#store.batch(() => {
      // The store's record of this member's previous submission; this one's start is not in it.
      const refusal = presetLimitRefusal(this.#store.presetUsage(guildId, memberId), this.#limits, bytes);
      if (refusal) throw new PresetLimitError(refusal);
      return write();
    });
  }

  #forgetOld(now: number): void {
    for (const [key, at] of this.#started) if (at + this.#limits.cooldownMs < now) this.#started.delete(key);
  }
}
