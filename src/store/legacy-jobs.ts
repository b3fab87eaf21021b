import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { z } from "zod";
import type { BlobStore } from "./blob-store.js";

/**
 * Versions before the jobs table kept each job as `<data dir>/jobs/<id>.json` plus its photo `<id>.png`.
 * The migration imports them once: finished jobs keep their buttons working (the photo is still there for
 * Re-roll), unfinished ones run again in their channel.
 */

export interface LegacyJobFiles {
  readonly dir: string;
  readonly blobs: BlobStore;
}

const LegacyJobSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  userId: z.string(),
  channelId: z.string(),
  guildId: z.string().optional(),
  createdAt: z.number(),
  parentId: z.string().optional(),
  finishedAt: z.number().optional(),
  settings: z.object({
    presetId: z.string(),
    strength: z.number(),
    quality: z.string(),
    size: z.number().int().positive(),
    preserveColors: z.boolean(),
    seed: z.number().int(),
  }),
});

/** Imports every readable job file; unreadable ones (or ones without a photo) are left where they are. */
export function importLegacyJobFiles(db: Database.Database, legacy: LegacyJobFiles): number {
  let names: string[];
  try {
    names = readdirSync(legacy.dir).filter((name) => name.endsWith(".json"));
  } catch {
    return 0; // no legacy folder
  }
  const insert = db.prepare(
    `INSERT OR IGNORE INTO jobs (id, user_id, guild_id, settings, content_blob, parent_id, reply_to, state,
       attempts, created_at, finished_at, reported_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
  );
  let imported = 0;
  for (const name of names) {
    let job: z.infer<typeof LegacyJobSchema>;
    let photo: Buffer;
    try {
      job = LegacyJobSchema.parse(JSON.parse(readFileSync(path.join(legacy.dir, name), "utf8")));
      photo = readFileSync(path.join(legacy.dir, `${job.id}.png`));
    } catch {
      continue;
    }
    const finished = job.finishedAt !== undefined;
    insert.run(
      job.id,
      job.userId,
      job.guildId ?? null,
      JSON.stringify(job.settings),
      legacy.blobs.putSync(photo),
      job.parentId ?? null,
      // No interaction survives a restart: an unfinished job answers in its channel.
      JSON.stringify({ channelId: job.channelId }),
      finished ? "done" : "queued",
      job.createdAt,
      job.finishedAt ?? null,
      job.finishedAt ?? null,
    );
    imported++;
  }
  return imported;
}
