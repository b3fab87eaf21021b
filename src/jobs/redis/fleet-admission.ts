import type { Redis } from "ioredis";
import { JobRefusedError, type Limits, type Reservation } from "../admission.js";
import type { JobOwner } from "../job.js";
import type { FleetKeys } from "./keys.js";

/**
 * The limits and the fair order of a fleet, kept in Redis so every bot process (shard, host) sees the same
 * counts. Each check-and-take is one Lua script, which Redis runs atomically: two shards reserving for one
 * member at the same moment cannot both pass a limit of one.
 *
 * Reservations are sorted-set members scored by when they lapse: a place taken for a request that is
 * still being prepared lapses after a few minutes if its bot process died; a submitted job's place is
 * held until the job ends (released by the worker or the bot, whichever sees the end first; releasing is
 * idempotent) and lapses only as a safety net.
 */

/** A request being prepared (photo downloading) holds its place at most this long. */
const PREPARING_MS = 10 * 60 * 1000;

const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return -2 end
local id = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], ARGV[2], id)
redis.call('ZADD', KEYS[2], ARGV[2], id)
return id`;

/** Extends a place that is still held (XX: a released one stays released). */
const HOLD = `
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', ARGV[1], ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 1 end
return 0`;

/**
 * Round-robin across processes: a member's next job gets the round after their last one, but never one
 * already served, so a member who queued ten jobs has them spread over ten rounds and everyone else's
 * jobs slot in between. The round is the job's BullMQ priority (lower runs first; FIFO within a round).
 */
const NEXT_ROUND = `
local served = tonumber(redis.call('GET', KEYS[2]) or '0')
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local round = math.max(served, last + 1)
redis.call('HSET', KEYS[1], ARGV[1], round)
return round`;

const SERVE_ROUND = `
local served = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > served then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/** BullMQ's highest priority number. */
export const MAX_PRIORITY = 2 ** 21;

export class FleetAdmission {
  readonly #redis: Redis;
  readonly #keys: FleetKeys;
  readonly #limits: Limits;

  constructor(redis: Redis, keys: FleetKeys, limits: Limits) {
    this.#redis = redis;
    this.#keys = keys;
    this.#limits = limits;
  }

  /** Throws JobRefusedError when a limit is reached; `memberLimit` can only lower the member limit. */
  async reserve(owner: JobOwner, memberLimit = this.#limits.perUserLimit): Promise<Reservation> {
    const limit = Math.min(memberLimit, this.#limits.perUserLimit);
    const now = Date.now();
    const id = Number(
      await this.#redis.eval(
        RESERVE,
        3,
        this.#keys.held,
        this.#keys.heldBy(owner.userId),
        this.#keys.reservationSeq,
        now,
        now + PREPARING_MS,
        limit,
        this.#limits.globalCap,
      ),
    );
    if (id === -1) throw new JobRefusedError("member_limit", limit);
    if (id === -2) throw new JobRefusedError("queue_full", this.#limits.globalCap);
    return { id, owner };
  }

  /** Keeps the place until `untilMs`; false when it was released or lapsed meanwhile. */
  async hold(reservation: Reservation, untilMs: number): Promise<boolean> {
    const kept = await this.#redis.eval(
      HOLD,
      2,
      this.#keys.held,
      this.#keys.heldBy(reservation.owner.userId),
      untilMs,
      reservation.id,
    );
    return Number(kept) === 1;
  }

  /** Idempotent. */
  async release(reservation: Reservation): Promise<void> {
    await this.#redis
      .multi()
      .zrem(this.#keys.held, reservation.id)
      .zrem(this.#keys.heldBy(reservation.owner.userId), reservation.id)
      .exec();
  }

  /** The round (= BullMQ priority) of a member's next job. */
  async nextRound(userId: string): Promise<number> {
    const round = Number(
      await this.#redis.eval(NEXT_ROUND, 2, this.#keys.memberRounds, this.#keys.servedRound, userId),
    );
    return Math.min(Math.max(round, 1), MAX_PRIORITY);
  }

  /** A worker started a job of `round`: later newcomers queue from there. */
  async served(round: number): Promise<void> {
    await this.#redis.eval(SERVE_ROUND, 1, this.#keys.servedRound, round);
  }
}
