import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { z } from "zod";
import { encodeImage } from "../images/index.js";
import { toRgbImage } from "../images/raw.js";
import type { Logger } from "../log.js";
import type { Job } from "./job.js";
import { loggableError } from "./loggable-error.js";

/**
 * Jobs on disk (`<data dir>/jobs/<id>.json` + the photo as `<id>.png`), so Re-roll, Stronger, Weaker and
 * HD keep working after a restart. Kept for a limited time only: members' photos are not hoarded.
 */

export const KEEP_JOBS_DAYS = 7;

const JobFileSchema = z.object({
  id: z.string(),
  userId: z.string(),
  channelId: z.string(),
  createdAt: z.number(),
  parentId: z.string().optional(),
  settings: z.object({
    presetId: z.string(),
    strength: z.number(),
    quality: z.enum(["fast", "balanced", "hq"]),
    size: z.number().int().positive(),
    preserveColors: z.boolean(),
    seed: z.number().int(),
  }),
});

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class JobArchive {
  readonly #dir: string;
  readonly #log: Logger;

  constructor(dataDir: string, log: Logger) {
    this.#dir = path.join(dataDir, "jobs");
    this.#log = log;
  }

  async save(job: Job): Promise<void> {
    const { content, ...record } = job;
    await mkdir(this.#dir, { recursive: true });
    await writeFile(path.join(this.#dir, `${job.id}.png`), await encodeImage(content, { format: "png" }));
    await writeFile(path.join(this.#dir, `${job.id}.json`), JSON.stringify(record));
  }

  async load(jobId: string): Promise<Job | undefined> {
    if (!SAFE_ID.test(jobId)) return undefined;
    try {
      const record = JobFileSchema.parse(
        JSON.parse(await readFile(path.join(this.#dir, `${jobId}.json`), "utf8")),
      );
      const png = await readFile(path.join(this.#dir, `${jobId}.png`));
      const content = await toRgbImage(sharp(png).removeAlpha().toColourspace("srgb"));
      return { ...record, content };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.#log.warn({ err: loggableError(error), jobId }, "unreadable archived job");
      }
      return undefined;
    }
  }

  /** Deletes jobs older than the retention time; returns how many files went. */
  async prune(now = Date.now()): Promise<number> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.#dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > KEEP_JOBS_DAYS * 24 * 60 * 60 * 1000) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
