import type Database from "better-sqlite3";
import type { Logger } from "../log.js";
import { JobTable } from "./job-table.js";
import { MIGRATIONS, type MigrationContext } from "./migrations.js";
import { openDatabase } from "./open.js";
import { isTransientStoreError, StoreUnavailableError } from "./unavailable.js";
import { WriteQueue } from "./write-queue.js";

/**
 * The bot's persistent state in one embedded SQLite file: community presets, delivered results, votes and
 * guild settings. This module is the only one that speaks SQL, so a move to PostgreSQL replaces this file
 * (and migrations.ts) and nothing else. Every write runs in an IMMEDIATE transaction: the bot and a job
 * runner may hold connections to the same file, and WAL lets readers go on while one of them writes.
 * (Nothing can lock readers out either: each open WAL connection holds a shared lock on the file, so no
 * other process gets the exclusive lock that would.)
 *
 * better-sqlite3 is synchronous, so waiting for another process's write lock freezes the event loop for
 * as long as the busy timeout. The bot's connection therefore waits only briefly (INTERACTIVE_BUSY_TIMEOUT_MS):
 * - writes that must never be lost go through enqueue(): in order, retried off the hot path until written;
 * - other writes (a moderator's action, a settings change) fail fast with StoreUnavailableError, and the
 *   member is asked to try again.
 */

export type PresetStatus = "pending" | "approved" | "rejected";

export interface GuildPreset {
  readonly id: number;
  readonly guildId: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly submitterId: string;
  readonly status: PresetStatus;
  /** 64-bit perceptual hash, 16 hex digits. */
  readonly phash: string;
  readonly createdAt: number;
  readonly uses: number;
}

export interface NewPreset {
  readonly guildId: string;
  readonly name: string;
  readonly description?: string;
  readonly submitterId: string;
  readonly status: PresetStatus;
  readonly image: Buffer;
  readonly thumbnail: Buffer;
  readonly phash: string;
  readonly createdAt?: number;
}

/** What a guild's community presets take up, and one member's part in it (for the submission limits). */
export interface PresetUsage {
  readonly pendingByMember: number;
  readonly pendingInServer: number;
  /** Bytes of stored images (painting and thumbnail) of every preset in the guild, whatever its status. */
  readonly storedBytes: number;
  /** When the member's latest preset still stored was submitted. */
  readonly lastSubmittedAt: number | undefined;
}

export interface ResultRecord {
  readonly messageId: string;
  readonly channelId: string;
  readonly guildId: string;
  readonly requesterId: string;
  /** The preset key: a built-in id, or `community:<id>`. */
  readonly preset: string;
  readonly settings: unknown;
  readonly seed: number;
  readonly createdAt: number;
}

export interface RankedResult extends ResultRecord {
  readonly votes: number;
}

export interface RankedPreset {
  readonly preset: string;
  readonly votes: number;
  readonly uses: number;
}

export interface GuildSettings {
  readonly autoApprove: boolean;
  readonly voteEmoji: string;
  readonly moderatorRoleId: string | undefined;
  readonly hallOfFameChannelId: string | undefined;
  readonly hallOfFameThreshold: number | undefined;
  readonly perUserLimit: number | undefined;
  /** Empty = every channel. */
  readonly allowedChannelIds: readonly string[];
}

export const DEFAULT_VOTE_EMOJI = "⭐";

/** A community preset's key in results, settings and autocomplete: `community:<id>`. */
export function communityKey(presetId: number): string {
  return `community:${presetId}`;
}

/** The community preset id in a preset key, or undefined for a built-in id. */
export function parseCommunityKey(key: string): number | undefined {
  const id = /^community:(\d+)$/.exec(key)?.[1];
  return id === undefined ? undefined : Number(id);
}

export class PresetNameTakenError extends Error {
  override readonly name = "PresetNameTakenError";
}

/**
 * How long one statement on the bot's connection waits for another connection's lock: short, as the
 * wait blocks the event loop. Processes without members to answer (batch jobs, tools) pass a longer one.
 */
export const INTERACTIVE_BUSY_TIMEOUT_MS = 10;

export interface StoreOptions extends MigrationContext {
  /** Defaults to INTERACTIVE_BUSY_TIMEOUT_MS. */
  readonly busyTimeoutMs?: number;
  /** Where the write queue reports a stall (the database locked or full) and its end. */
  readonly log?: Logger;
}

interface PresetRow {
  id: number;
  guild_id: string;
  name: string;
  description: string | null;
  submitter_id: string;
  status: PresetStatus;
  phash: string;
  created_at: number;
  uses: number;
}

interface ResultRow {
  message_id: string;
  channel_id: string;
  guild_id: string;
  requester_id: string;
  preset: string;
  settings: string;
  seed: number;
  created_at: number;
  votes?: number;
}

interface SettingsRow {
  auto_approve: number;
  vote_emoji: string | null;
  moderator_role_id: string | null;
  hall_of_fame_channel_id: string | null;
  hall_of_fame_threshold: number | null;
  per_user_limit: number | null;
  allowed_channel_ids: string | null;
}

const PRESET_COLUMNS = "id, guild_id, name, description, submitter_id, status, phash, created_at, uses";
const RESULT_COLUMNS =
  "r.message_id, r.channel_id, r.guild_id, r.requester_id, r.preset, r.settings, r.seed, r.created_at";

export class Store {
  readonly #db: Database.Database;
  readonly #queue: WriteQueue;
  readonly #busyTimeoutMs: number;
  /**
   * The last write met another connection's lock: until one gets through, writes don't wait for it at all
   * (SQLite's wait is a sleep on this thread, and under load each of its naps oversleeps), they fail at once.
   */
  #locked = false;
  /** The job layer's rows (see job-table.ts). */
  readonly jobs: JobTable;

  private constructor(db: Database.Database, options: StoreOptions) {
    this.#db = db;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? INTERACTIVE_BUSY_TIMEOUT_MS;
    db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
    const log = options.log;
    this.#queue = new WriteQueue({
      run: (work) => this.#transaction(work),
      isTransient: isTransientStoreError,
      onStall: (error, waiting) =>
        log?.warn({ err: error, waiting }, "database not writable; queued writes will be retried"),
      onRecover: (written, stalledMs) =>
        log?.info({ written, stalledMs }, "database writable again; queued writes committed"),
    });
    this.jobs = new JobTable(db, (work) => this.#write(work));
  }

  /**
   * Opens (creating if needed) the database file and brings its schema up to date; the options carry what
   * data migrations need (the folder of job files from before the jobs table). Throws StoreOpenError,
   * naming the file and what is wrong with it, when it cannot.
   */
  static open(file: string, options: StoreOptions = {}): Store {
    return new Store(
      openDatabase(file, (opened) => migrate(opened, options)),
      options,
    );
  }

  get schemaVersion(): number {
    return this.#db.pragma("user_version", { simple: true }) as number;
  }

  /** Writes queued by enqueue() and not yet committed. */
  get queuedWrites(): number {
    return this.#queue.size;
  }

  /**
   * Runs `work` (store writes, and reads they depend on) in one transaction that is never lost to a lock
   * or a full disk: after every write queued before it, retried off the hot path until committed. When
   * nothing is waiting it runs at once, before this returns. For writes a member must not lose (votes,
   * result records); the promise carries `work`'s value.
   */
  enqueue<T>(work: () => T): Promise<T> {
    return this.#queue.enqueue(work);
  }

  /** Keeps retrying queued writes for up to `timeoutMs`; resolves with how many are still not written. */
  drain(timeoutMs: number): Promise<number> {
    return this.#queue.drain(timeoutMs);
  }

  /** Closes the file; writes still queued are rejected (drain() first to give them a chance). */
  close(): void {
    this.#queue.close();
    if (this.#db.open) this.#db.close();
  }

  /**
   * Runs `work` in one write transaction now; the store's own writes inside it join it (as savepoints), so
   * several of them commit or vanish together. Throws StoreUnavailableError when the file is locked or the
   * disk is full (after a short wait), rather than block.
   */
  batch<T>(work: () => T): T {
    return this.#write(work);
  }

  #write<T>(work: () => T): T {
    if (this.#db.inTransaction) return this.#db.transaction(work)(); // joins the open one as a savepoint
    // Queued writes go first, so writes land in the order they were asked for.
    if (!this.#queue.flush()) throw StoreUnavailableError.wrap(this.#queue.stalledBy);
    try {
      return this.#transaction(work);
    } catch (error) {
      throw StoreUnavailableError.wrap(error);
    }
  }

  #transaction<T>(work: () => T): T {
    const wasLocked = this.#locked;
    if (wasLocked) this.#db.pragma("busy_timeout = 0");
    try {
      const value = this.#db.transaction(work).immediate();
      this.#locked = false;
      return value;
    } catch (error) {
      const unavailable = StoreUnavailableError.wrap(error);
      if (unavailable instanceof StoreUnavailableError) this.#locked = unavailable.reason === "busy";
      throw error;
    } finally {
      if (wasLocked) this.#db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
    }
  }

  // --- community presets -------------------------------------------------------------------------

  addPreset(preset: NewPreset): GuildPreset {
    return this.#write(() => {
      try {
        const { lastInsertRowid } = this.#db
          .prepare(
            `INSERT INTO guild_presets (guild_id, name, description, submitter_id, status, image, thumbnail, phash, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            preset.guildId,
            preset.name,
            preset.description ?? null,
            preset.submitterId,
            preset.status,
            preset.image,
            preset.thumbnail,
            preset.phash,
            preset.createdAt ?? Date.now(),
          );
        return this.preset(Number(lastInsertRowid)) as GuildPreset;
      } catch (error) {
        throw nameTaken(error, preset.name);
      }
    });
  }

  preset(id: number): GuildPreset | undefined {
    const row = this.#db.prepare(`SELECT ${PRESET_COLUMNS} FROM guild_presets WHERE id = ?`).get(id);
    return row ? toPreset(row as PresetRow) : undefined;
  }

  /** Case-insensitive, as names are unique per guild regardless of case. */
  presetByName(guildId: string, name: string): GuildPreset | undefined {
    const row = this.#db
      .prepare(`SELECT ${PRESET_COLUMNS} FROM guild_presets WHERE guild_id = ? AND name = ? COLLATE NOCASE`)
      .get(guildId, name);
    return row ? toPreset(row as PresetRow) : undefined;
  }

  presets(guildId: string, status?: PresetStatus): GuildPreset[] {
    const rows = status
      ? this.#db
          .prepare(
            `SELECT ${PRESET_COLUMNS} FROM guild_presets WHERE guild_id = ? AND status = ? ORDER BY id`,
          )
          .all(guildId, status)
      : this.#db
          .prepare(`SELECT ${PRESET_COLUMNS} FROM guild_presets WHERE guild_id = ? ORDER BY id`)
          .all(guildId);
    return (rows as PresetRow[]).map(toPreset);
  }

  presetUsage(guildId: string, memberId: string): PresetUsage {
    const row = this.#db
      .prepare(
        `SELECT coalesce(sum(status = 'pending' AND submitter_id = ?), 0) AS pendingByMember,
                coalesce(sum(status = 'pending'), 0) AS pendingInServer,
                coalesce(sum(length(image) + length(thumbnail)), 0) AS storedBytes,
                max(CASE WHEN submitter_id = ? THEN created_at END) AS lastSubmittedAt
         FROM guild_presets WHERE guild_id = ?`,
      )
      .get(memberId, memberId, guildId) as Omit<PresetUsage, "lastSubmittedAt"> & {
      lastSubmittedAt: number | null;
    };
    return { ...row, lastSubmittedAt: row.lastSubmittedAt ?? undefined };
  }

  presetImage(id: number): { image: Buffer; thumbnail: Buffer } | undefined {
    return this.#db.prepare("SELECT image, thumbnail FROM guild_presets WHERE id = ?").get(id) as
      | { image: Buffer; thumbnail: Buffer }
      | undefined;
  }

  setPresetStatus(id: number, status: PresetStatus): boolean {
    return this.#write(
      () => this.#db.prepare("UPDATE guild_presets SET status = ? WHERE id = ?").run(status, id).changes > 0,
    );
  }

  renamePreset(id: number, name: string): boolean {
    return this.#write(() => {
      try {
        return this.#db.prepare("UPDATE guild_presets SET name = ? WHERE id = ?").run(name, id).changes > 0;
      } catch (error) {
        throw nameTaken(error, name);
      }
    });
  }

  removePreset(id: number): boolean {
    return this.#write(() => this.#db.prepare("DELETE FROM guild_presets WHERE id = ?").run(id).changes > 0);
  }

  // --- results and votes -------------------------------------------------------------------------

  /** Records a delivered result; a community preset's use count goes up in the same transaction. */
  recordResult(result: ResultRecord): void {
    this.#write(() => {
      const inserted = this.#db
        .prepare(
          `INSERT OR IGNORE INTO results (message_id, channel_id, guild_id, requester_id, preset, settings, seed, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          result.messageId,
          result.channelId,
          result.guildId,
          result.requesterId,
          result.preset,
          JSON.stringify(result.settings),
          result.seed,
          result.createdAt,
        );
      const community = parseCommunityKey(result.preset);
      if (inserted.changes > 0 && community !== undefined) {
        this.#db.prepare("UPDATE guild_presets SET uses = uses + 1 WHERE id = ?").run(community);
      }
    });
  }

  result(messageId: string): ResultRecord | undefined {
    const row = this.#db
      .prepare(`SELECT ${RESULT_COLUMNS} FROM results r WHERE r.message_id = ?`)
      .get(messageId);
    return row ? toResult(row as ResultRow) : undefined;
  }

  /** True when the vote is new (a member's second reaction of the same kind changes nothing). */
  addVote(messageId: string, voterId: string, at = Date.now()): boolean {
    return this.#write(
      () =>
        this.#db
          .prepare("INSERT OR IGNORE INTO votes (message_id, voter_id, created_at) VALUES (?, ?, ?)")
          .run(messageId, voterId, at).changes > 0,
    );
  }

  removeVote(messageId: string, voterId: string): boolean {
    return this.#write(
      () =>
        this.#db.prepare("DELETE FROM votes WHERE message_id = ? AND voter_id = ?").run(messageId, voterId)
          .changes > 0,
    );
  }

  removeAllVotes(messageId: string): number {
    return this.#write(
      () => this.#db.prepare("DELETE FROM votes WHERE message_id = ?").run(messageId).changes,
    );
  }

  votes(messageId: string): number {
    const row = this.#db.prepare("SELECT count(*) AS n FROM votes WHERE message_id = ?").get(messageId) as {
      n: number;
    };
    return row.n;
  }

  /** Marks a result as reposted to the hall of fame; true only for the one caller that got there first. */
  claimHallOfFame(messageId: string, at = Date.now()): boolean {
    return this.#write(
      () =>
        this.#db
          .prepare("UPDATE results SET hall_of_fame_at = ? WHERE message_id = ? AND hall_of_fame_at IS NULL")
          .run(at, messageId).changes > 0,
    );
  }

  // --- leaderboards and favourites ---------------------------------------------------------------

  /** The guild's results made since `since` (ms), most votes first, then the earliest. */
  topResults(guildId: string, since: number, limit: number): RankedResult[] {
    const rows = this.#db
      .prepare(
        `SELECT ${RESULT_COLUMNS}, count(v.voter_id) AS votes
         FROM results r JOIN votes v ON v.message_id = r.message_id
         WHERE r.guild_id = ? AND r.created_at >= ?
         GROUP BY r.message_id ORDER BY votes DESC, r.created_at ASC LIMIT ?`,
      )
      .all(guildId, since, limit) as ResultRow[];
    return rows.map((row) => ({ ...toResult(row), votes: row.votes ?? 0 }));
  }

  /**
   * The guild's presets by the votes their results received since `since` (ms), then by how many
   * results used them in that time.
   */
  topPresets(guildId: string, since: number, limit: number): RankedPreset[] {
    return this.#db
      .prepare(
        `SELECT preset, sum(window_votes) AS votes, sum(created_at >= ?) AS uses FROM (
           SELECT r.preset, r.created_at,
                  (SELECT count(*) FROM votes v WHERE v.message_id = r.message_id AND v.created_at >= ?) AS window_votes
           FROM results r WHERE r.guild_id = ?
         ) GROUP BY preset HAVING votes > 0 OR uses > 0 ORDER BY votes DESC, uses DESC, preset LIMIT ?`,
      )
      .all(since, since, guildId, limit) as RankedPreset[];
  }

  /** All-time uses and votes of every preset used in the guild (autocomplete ranks by them). */
  presetPopularity(guildId: string): Map<string, { uses: number; votes: number }> {
    const rows = this.#db
      .prepare(
        `SELECT r.preset, count(DISTINCT r.message_id) AS uses, count(v.voter_id) AS votes
         FROM results r LEFT JOIN votes v ON v.message_id = r.message_id
         WHERE r.guild_id = ? GROUP BY r.preset`,
      )
      .all(guildId) as { preset: string; uses: number; votes: number }[];
    return new Map(rows.map((row) => [row.preset, { uses: row.uses, votes: row.votes }]));
  }

  /** The results a member voted for in a guild, most recently starred first. */
  favourites(
    voterId: string,
    guildId: string,
    offset: number,
    limit: number,
  ): { total: number; results: RankedResult[] } {
    const { total } = this.#db
      .prepare(
        `SELECT count(*) AS total FROM votes v JOIN results r ON r.message_id = v.message_id
         WHERE v.voter_id = ? AND r.guild_id = ?`,
      )
      .get(voterId, guildId) as { total: number };
    const rows = this.#db
      .prepare(
        `SELECT ${RESULT_COLUMNS}, (SELECT count(*) FROM votes a WHERE a.message_id = r.message_id) AS votes
         FROM votes v JOIN results r ON r.message_id = v.message_id
         WHERE v.voter_id = ? AND r.guild_id = ?
         ORDER BY v.created_at DESC, r.message_id LIMIT ? OFFSET ?`,
      )
      .all(voterId, guildId, limit, offset) as ResultRow[];
    return { total, results: rows.map((row) => ({ ...toResult(row), votes: row.votes ?? 0 })) };
  }

  // --- guild settings ------------------------------------------------------------------------------

  guildSettings(guildId: string): GuildSettings {
    const row = this.#db.prepare("SELECT * FROM guild_settings WHERE guild_id = ?").get(guildId) as
      | SettingsRow
      | undefined;
    return {
      autoApprove: Boolean(row?.auto_approve),
      voteEmoji: row?.vote_emoji ?? DEFAULT_VOTE_EMOJI,
      moderatorRoleId: row?.moderator_role_id ?? undefined,
      hallOfFameChannelId: row?.hall_of_fame_channel_id ?? undefined,
      hallOfFameThreshold: row?.hall_of_fame_threshold ?? undefined,
      perUserLimit: row?.per_user_limit ?? undefined,
      allowedChannelIds: row?.allowed_channel_ids ? (JSON.parse(row.allowed_channel_ids) as string[]) : [],
    };
  }

  /** Applies `changes`; a key present with the value undefined goes back to its default. */
  updateGuildSettings(guildId: string, changes: Partial<GuildSettings>): GuildSettings {
    return this.#write(() => {
      const next = { ...this.guildSettings(guildId), ...changes };
      this.#db
        .prepare(
          `INSERT INTO guild_settings (guild_id, auto_approve, vote_emoji, moderator_role_id, hall_of_fame_channel_id,
             hall_of_fame_threshold, per_user_limit, allowed_channel_ids)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (guild_id) DO UPDATE SET auto_approve = excluded.auto_approve, vote_emoji = excluded.vote_emoji,
             moderator_role_id = excluded.moderator_role_id, hall_of_fame_channel_id = excluded.hall_of_fame_channel_id,
             hall_of_fame_threshold = excluded.hall_of_fame_threshold, per_user_limit = excluded.per_user_limit,
             allowed_channel_ids = excluded.allowed_channel_ids`,
        )
        .run(
          guildId,
          next.autoApprove ? 1 : 0,
          next.voteEmoji,
          next.moderatorRoleId ?? null,
          next.hallOfFameChannelId ?? null,
          next.hallOfFameThreshold ?? null,
          next.perUserLimit ?? null,
          next.allowedChannelIds.length > 0 ? JSON.stringify(next.allowedChannelIds) : null,
        );
      return this.guildSettings(guildId); // as stored, defaults filled in
    });
  }

  /** SQLite's own consistency check: "ok" when the file is sound. */
  integrityCheck(): string {
    return this.#db.pragma("integrity_check", { simple: true }) as string;
  }
}

/** Runs the steps the file has not had yet, each in its own transaction with its version bump. */
export function migrate(db: Database.Database, context: MigrationContext = {}): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database is at schema version ${current}, newer than this bot knows (${MIGRATIONS.length}); update the bot`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      const step = MIGRATIONS[version]!;
      if (typeof step === "string") db.exec(step);
      else step(db, context);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

function nameTaken(error: unknown, name: string): unknown {
  if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
    return new PresetNameTakenError(`a preset called “${name}” already exists in this server`);
  }
  return error;
}

function toPreset(row: PresetRow): GuildPreset {
  return {
    id: row.id,
    guildId: row.guild_id,
    name: row.name,
    description: row.description ?? undefined,
    submitterId: row.submitter_id,
    status: row.status,
    phash: row.phash,
    createdAt: row.created_at,
    uses: row.uses,
  };
}

function toResult(row: ResultRow): ResultRecord {
  return {
    messageId: row.message_id,
    channelId: row.channel_id,
    guildId: row.guild_id,
    requesterId: row.requester_id,
    preset: row.preset,
    settings: JSON.parse(row.settings) as unknown,
    seed: row.seed,
    createdAt: row.created_at,
  };
}
