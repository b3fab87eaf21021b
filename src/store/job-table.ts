import type Database from "better-sqlite3";

/**
 * Job rows: the job layer's state machine (queued → running → done | failed | cancelled) on disk. Each
 * method is one transaction (the store's `write`), and each transition names the states it may leave,
 * so a late or repeated update (a cancel racing the end of a run, say) changes nothing. The job's
 * settings and the caller's reply note are JSON the store does not interpret.
 */

export const JOB_STATES = ["queued", "running", "done", "failed", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface StoredJob {
  readonly id: string;
  readonly userId: string;
  readonly guildId?: string;
  readonly settings: unknown;
  /** Content hash of the photo in the blob store. */
  readonly contentBlob: string;
  /** The member's own painting for this job, if they brought one (else the settings name a style). */
  readonly styleBlob?: string;
  /** A picture to start from instead of the photo (the result an HD job refines). */
  readonly initBlob?: string;
  readonly parentId?: string;
  readonly replyTo?: unknown;
  readonly state: JobState;
  /** How many times the job started running. */
  readonly attempts: number;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly resultBlob?: string;
  readonly timelapseBlob?: string;
  readonly stopReason?: string;
  readonly stopDetail?: string;
  /** When the member was told how the job ended. */
  readonly reportedAt?: number;
}

interface JobRow {
  id: string;
  user_id: string;
  guild_id: string | null;
  settings: string;
  content_blob: string;
  style_blob: string | null;
  init_blob: string | null;
  parent_id: string | null;
  reply_to: string | null;
  state: JobState;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  result_blob: string | null;
  timelapse_blob: string | null;
  stop_reason: string | null;
  stop_detail: string | null;
  reported_at: number | null;
}

export type NewJob = Pick<
  StoredJob,
  | "id"
  | "userId"
  | "guildId"
  | "settings"
  | "contentBlob"
  | "styleBlob"
  | "initBlob"
  | "parentId"
  | "replyTo"
  | "createdAt"
>;

export type JobEnding =
  | { readonly state: "done"; readonly resultBlob: string }
  | { readonly state: "failed" | "cancelled"; readonly reason: string; readonly detail?: string };

type Write = <T>(work: () => T) => T;

export class JobTable {
  readonly #db: Database.Database;
  readonly #write: Write;

  constructor(db: Database.Database, write: Write) {
    this.#db = db;
    this.#write = write;
  }

  insert(job: NewJob): StoredJob {
    return this.#write(() => {
      this.#db
        .prepare(
          `INSERT INTO jobs (id, user_id, guild_id, settings, content_blob, style_blob, init_blob, parent_id, reply_to, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
        )
        .run(
          job.id,
          job.userId,
          job.guildId ?? null,
          JSON.stringify(job.settings),
          job.contentBlob,
          job.styleBlob ?? null,
          job.initBlob ?? null,
          job.parentId ?? null,
          job.replyTo === undefined ? null : JSON.stringify(job.replyTo),
          job.createdAt,
        );
      return this.get(job.id)!;
    });
  }

  get(id: string): StoredJob | undefined {
    const row = this.#db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as JobRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Queued → running; counts the attempt. False when the job was not queued (cancelled meanwhile). */
  start(id: string, at = Date.now()): boolean {
    return this.#change(
      "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ? WHERE id = ? AND state = 'queued'",
      at,
      id,
    );
  }

  /** Running → queued: handed back unfinished (shutdown, restart), to run again. */
  requeue(id: string): boolean {
    return this.#change("UPDATE jobs SET state = 'queued' WHERE id = ? AND state = 'running'", id);
  }

  /** Queued or running → an end state. False when the job had already ended. */
  finish(id: string, ending: JobEnding, at = Date.now()): boolean {
    return ending.state === "done"
      ? this.#change(
          `UPDATE jobs SET state = 'done', result_blob = ?, finished_at = ?
           WHERE id = ? AND state IN ('queued', 'running')`,
          ending.resultBlob,
          at,
          id,
        )
      : this.#change(
          `UPDATE jobs SET state = ?, stop_reason = ?, stop_detail = ?, finished_at = ?
           WHERE id = ? AND state IN ('queued', 'running')`,
          ending.state,
          ending.reason,
          ending.detail ?? null,
          at,
          id,
        );
  }

  setTimelapse(id: string, blob: string): boolean {
    return this.#change("UPDATE jobs SET timelapse_blob = ? WHERE id = ?", blob, id);
  }

  /** The member was told how the job ended (the caller saw Discord accept the message). */
  markReported(id: string, at = Date.now()): boolean {
    return this.#change("UPDATE jobs SET reported_at = ? WHERE id = ? AND reported_at IS NULL", at, id);
  }

  /** Queued and running jobs, oldest first: what a restart must take up again. */
  unfinished(): StoredJob[] {
    return this.#all("SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, id");
  }

  /** Ended jobs whose member has not been told yet, oldest first. */
  unreported(): StoredJob[] {
    return this.#all(
      "SELECT * FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND reported_at IS NULL ORDER BY finished_at, id",
    );
  }

  /**
   * Forgets jobs that ended and were reported before `before`; returns the blobs every remaining job still
   * uses (the blob store deletes the rest).
   */
  prune(before: number): { removed: number; blobsInUse: Set<string> } {
    return this.#write(() => {
      const { changes } = this.#db
        .prepare(
          `DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND reported_at IS NOT NULL
           AND finished_at < ?`,
        )
        .run(before);
      const rows = this.#db
        .prepare(
          `SELECT content_blob AS blob FROM jobs
           UNION SELECT style_blob FROM jobs WHERE style_blob IS NOT NULL
           UNION SELECT init_blob FROM jobs WHERE init_blob IS NOT NULL
           UNION SELECT result_blob FROM jobs WHERE result_blob IS NOT NULL
           UNION SELECT timelapse_blob FROM jobs WHERE timelapse_blob IS NOT NULL`,
        )
        .all() as { blob: string }[];
      return { removed: changes, blobsInUse: new Set(rows.map((row) => row.blob)) };
    });
  }

  #change(sql: string, ...params: unknown[]): boolean {
    return this.#write(() => this.#db.prepare(sql).run(...params).changes > 0);
  }

  #all(sql: string): StoredJob[] {
    return (this.#db.prepare(sql).all() as JobRow[]).map(toRecord);
  }
}

function toRecord(row: JobRow): StoredJob {
  const optional = <T>(value: T | null): T | undefined => value ?? undefined;
  return {
    id: row.id,
    userId: row.user_id,
    guildId: optional(row.guild_id),
    settings: JSON.parse(row.settings) as unknown,
    contentBlob: row.content_blob,
    styleBlob: optional(row.style_blob),
    initBlob: optional(row.init_blob),
    parentId: optional(row.parent_id),
    replyTo: row.reply_to === null ? undefined : (JSON.parse(row.reply_to) as unknown),
    state: row.state,
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: optional(row.started_at),
    finishedAt: optional(row.finished_at),
    resultBlob: optional(row.result_blob),
    timelapseBlob: optional(row.timelapse_blob),
    stopReason: optional(row.stop_reason),
    stopDetail: optional(row.stop_detail),
    reportedAt: optional(row.reported_at),
  };
}
