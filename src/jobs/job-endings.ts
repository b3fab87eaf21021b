import sharp from "sharp";
import type { Logger } from "../log.js";
import type { BlobStore, Store } from "../store/index.js";
import type { EncodedImage, JobEvent } from "./events.js";
import type { JobRecord } from "./job.js";

/**
 * What both runners do with ended jobs: tell an ending again after a restart, from what the store kept,
 * and delete old jobs and their files.
 */

/** Blobs younger than this are never pruned: their job row may not be written yet. */
const BLOB_GRACE_MS = 60 * 60 * 1000;
export const PRUNE_EVERY_MS = 6 * 60 * 60 * 1000;

/** The final events of a job whose member was not told (done + timelapse, or stopped). */
export async function endingEvents(record: JobRecord, blobs: BlobStore): Promise<JobEvent[]> {
  if (record.state !== "done") {
    return [{ type: "stopped", reason: record.stopReason ?? "failed", detail: record.stopDetail }];
  }
  const image = record.resultBlob && (await encodedBlob(blobs, record.resultBlob));
  if (!image) {
    const detail = "its result could not be read back after a restart";
    return [{ type: "stopped", reason: "failed", detail }];
  }
  const elapsedMs = (record.finishedAt ?? 0) - (record.startedAt ?? record.createdAt);
  const totalMs = (record.finishedAt ?? Date.now()) - record.createdAt;
  const events: JobEvent[] = [{ type: "done", image, elapsedMs, totalMs }];
  const animation = record.timelapseBlob && (await encodedBlob(blobs, record.timelapseBlob));
  if (animation) events.push({ type: "timelapse", animation });
  return events;
}

/** A stored image with what a reply needs to show it; undefined when it is gone or not a picture. */
export async function encodedBlob(blobs: BlobStore, id: string): Promise<EncodedImage | undefined> {
  try {
    const data = await blobs.get(id);
    const { format, width = 0, height = 0 } = await sharp(data).metadata();
    if (format !== "png" && format !== "jpeg" && format !== "webp" && format !== "gif") return undefined;
    return { data, format, width, height };
  } catch {
    return undefined;
  }
}

/** Deletes jobs ended more than `keepJobsMs` ago and the files no job uses any more. */
export async function pruneJobs(
  store: Store,
  blobs: BlobStore,
  keepJobsMs: number,
  log: Logger,
): Promise<void> {
  try {
    const { removed, blobsInUse } = store.jobs.prune(Date.now() - keepJobsMs);
    const files = await blobs.prune(blobsInUse, BLOB_GRACE_MS);
    if (removed > 0 || files > 0) log.info({ jobs: removed, files }, "pruned old jobs");
  } catch (error) {
    log.warn({ err: error }, "could not prune old jobs");
  }
}
