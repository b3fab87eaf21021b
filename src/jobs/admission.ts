import type { JobOwner } from "./job.js";

/**
 * The limits, checked before any work: a member's jobs (queued, running, or still being prepared by the
 * caller — downloading the photo, say), optionally lowered per call (a server's own limit), and the total.
 * A reservation is taken when a request arrives and held until its job ends, or released if the request
 * falls through; so simultaneous requests cannot all pass the check and then all do the work.
 */

export type RefusalCode = "member_limit" | "queue_full";

/** A limit refused the job; the caller words it for the member. */
export class JobRefusedError extends Error {
  override readonly name = "JobRefusedError";
  constructor(
    readonly code: RefusalCode,
    readonly limit: number,
  ) {
    super(code === "member_limit" ? `member limit of ${limit} jobs reached` : `queue full (${limit} jobs)`);
  }
}

export interface Reservation {
  readonly id: number;
  readonly owner: JobOwner;
}

export interface Limits {
  /** Queued + running (+ reserved) jobs one member may have. */
  readonly perUserLimit: number;
  /** The same over all members. */
  readonly globalCap: number;
}

export class Admission {
  readonly #limits: Limits;
  readonly #held = new Map<number, Reservation>();
  readonly #perUser = new Map<string, number>();
  #nextId = 1;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** Throws JobRefusedError when a limit is reached; `memberLimit` can only lower the member limit. */
  reserve(owner: JobOwner, memberLimit = this.#limits.perUserLimit): Reservation {
    const limit = Math.min(memberLimit, this.#limits.perUserLimit);
    if (this.countOf(owner.userId) >= limit) throw new JobRefusedError("member_limit", limit);
    if (this.#held.size >= this.#limits.globalCap)
      throw new JobRefusedError("queue_full", this.#limits.globalCap);
    return this.admit(owner);
  }

  /** Holds a place without checking (jobs recovered after a restart were admitted before). */
  admit(owner: JobOwner): Reservation {
    const reservation = { id: this.#nextId++, owner };
    this.#held.set(reservation.id, reservation);
    this.#perUser.set(owner.userId, this.countOf(owner.userId) + 1);
    return reservation;
  }

  /** Idempotent: releasing twice frees one place. */
  release(reservation: Reservation): void {
    if (!this.#held.delete(reservation.id)) return;
    const left = this.countOf(reservation.owner.userId) - 1;
    if (left > 0) this.#perUser.set(reservation.owner.userId, left);
    else this.#perUser.delete(reservation.owner.userId);
  }

  isHeld(reservation: Reservation): boolean {
    return this.#held.has(reservation.id);
  }

  countOf(userId: string): number {
    return this.#perUser.get(userId) ?? 0;
  }
}
