import type Database from "better-sqlite3";
import { importLegacyJobFiles, type LegacyJobFiles } from "./legacy-jobs.js";

/**
 * The schema, as an ordered list of steps. Step i brings a database from `PRAGMA user_version` i to i + 1;
 * a step, once released, never changes: new needs get a new step at the end. A step is SQL, or a function
 * for data that lives outside the database (it runs inside the step's transaction all the same).
 */

export interface MigrationContext {
  /** Job files written by versions before the jobs table, to import once. */
  readonly legacyJobs?: LegacyJobFiles;
}

export type Migration = string | ((db: Database.Database, context: MigrationContext) => void);

export const MIGRATIONS: readonly Migration[] = [
  // 1: community presets, delivered results and the votes on them.
  `
  CREATE TABLE guild_presets (
    id INTEGER PRIMARY KEY,
    guild_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    submitter_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    image BLOB NOT NULL,
    thumbnail BLOB NOT NULL,
    phash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX guild_presets_name ON guild_presets (guild_id, name COLLATE NOCASE);

  CREATE TABLE results (
    message_id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    guild_id TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    preset TEXT NOT NULL,
    settings TEXT NOT NULL,
    seed INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX results_guild_time ON results (guild_id, created_at);

  CREATE TABLE votes (
    message_id TEXT NOT NULL REFERENCES results (message_id) ON DELETE CASCADE,
    voter_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, voter_id)
  );
  CREATE INDEX votes_voter ON votes (voter_id, created_at);
  `,
  // 2: per-guild settings, and which results the hall of fame already reposted.
  `
  CREATE TABLE guild_settings (
    guild_id TEXT PRIMARY KEY,
    auto_approve INTEGER NOT NULL DEFAULT 0,
    vote_emoji TEXT,
    moderator_role_id TEXT,
    hall_of_fame_channel_id TEXT,
    hall_of_fame_threshold INTEGER,
    per_user_limit INTEGER,
    allowed_channel_ids TEXT
  );
  ALTER TABLE results ADD COLUMN hall_of_fame_at INTEGER;
  `,
  // 3: jobs as rows with a state machine; photos and results are files named by content hash.
  `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    guild_id TEXT,
    settings TEXT NOT NULL,
    content_blob TEXT NOT NULL,
    style_blob TEXT,
    parent_id TEXT,
    reply_to TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    result_blob TEXT,
    timelapse_blob TEXT,
    stop_reason TEXT,
    stop_detail TEXT,
    reported_at INTEGER
  );
  CREATE INDEX jobs_open ON jobs (state, created_at);
  CREATE INDEX jobs_unreported ON jobs (reported_at, finished_at);
  `,
  // 4: the job JSON files of earlier versions become rows (their photos move into the blob store).
  (db, context) => {
    if (context.legacyJobs) importLegacyJobFiles(db, context.legacyJobs);
  },
  // 5: a job may start from a picture other than the photo (HD refines the result it enlarges).
  "ALTER TABLE jobs ADD COLUMN init_blob TEXT;",
];

export const SCHEMA_VERSION = MIGRATIONS.length;
