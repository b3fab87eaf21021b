import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { z } from "zod";
import { QUALITIES } from "../engine/index.js";
import { encodeImage } from "../images/index.js";
import { toRgbImage } from "../images/raw.js";
import type { Logger } from "../log.js";
import { JOB_ID_PATTERN, type Job } from "./job.js";
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
  guildId: z.string().optional(),
  createdAt: z.number(),
  parentId: z.string().optional(),
  /** Set once the job ended (done, failed or cancelled); unset jobs are resumed after a restart. */
  finishedAt: z.number().optional(),
  settings: z.object({
    presetId: z.string(),
    strength: z.number(),
    quality: z.enum(QUALITIES),
    size: z.number().int().positive(),
    preserveColors: z.boolean(),
    seed: z.number().int(),
  }),
});

export class JobArchive {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #writes = new Map<string, Promise<void>>();

  constructor(dataDir: string, log: Logger) {
    this.#dir = path.join(dataDir, "jobs");
    this.#log = log;
  }

  save(job: Job): Promise<void> {
    return this.#inOrder(job.id, async () => {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(
        path.join(this.#dir, `${job.id}.png`),
        await encodeImage(job.content, { format: "png" }),
      );
      await this.#writeRecord(job);
    });
  }

  markFinished(job: Job): Promise<void> {
    return this.#inOrder(job.id, () => this.#writeRecord(job, Date.now()));
  }

  /** Writes for one job happen in call order, so a quick "finished" never lands before the first save. */
  #inOrder(jobId: string, write: () => Promise<void>): Promise<void> {
    const next = (this.#writes.get(jobId) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.#writes.set(jobId, next);
    const forget = () => {
      if (this.#writes.get(jobId) === next) this.#writes.delete(jobId);
    };
    next.then(forget, forget);
    return next;
  }

  async #writeRecord(job: Job, finishedAt?: number): Promise<void> {
    const { content: _pixels, resumed: _resumed, ...record } = job;
    await writeFile(path.join(this.#dir, `${job.id}.json`), JSON.stringify({ ...record, finishedAt }));
  }

  /** Jobs a restart interrupted (queued or running, not finished), oldest first. */
  async unfinished(): Promise<Job[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    const jobs: Job[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const job = await this.load(name.slice(0, -".json".length), { unfinishedOnly: true });
      if (job) jobs.push(job);
    }
    return jobs.sort((a, b) => a.createdAt - b.createdAt);
  }

  async load(jobId: string, options: { unfinishedOnly?: boolean } = {}): Promise<Job | undefined> {
    if (!JOB_ID_PATTERN.test(jobId)) return undefined;
    try {
      const { finishedAt, ...record } = JobFileSchema.parse(
        JSON.parse(await readFile(path.join(this.#dir, `${jobId}.json`), "utf8")),
      );
      if (options.unfinishedOnly && finishedAt !== undefined) return undefined;
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
