import sharp from "sharp";
import type { BlobStore, Store } from "../store/index.js";
import { asJobRecord, type JobRecord, type JobRequest, newJobId } from "./job.js";
import { outputPixels } from "./run-job.js";

/**
 * A submitted request as a queued job row, with its photo, painting and starting picture stored as blobs
 * first (so a restart finds everything the row names). Both runners queue jobs this way.
 */
export async function recordJob(
  store: Store,
  blobs: BlobStore,
  request: JobRequest,
): Promise<{ record: JobRecord; outputPixels: number }> {
  const contentBlob = await blobs.put(request.content);
  const styleBlob = request.styleImage && (await blobs.put(request.styleImage));
  const initBlob = request.initImage && (await blobs.put(request.initImage));
  const { width, height } = await sharp(request.content).metadata();
  const record = asJobRecord(
    store.jobs.insert({
      id: newJobId(),
      userId: request.userId,
      guildId: request.guildId,
      settings: request.settings,
      contentBlob,
      styleBlob,
      initBlob,
      parentId: request.parentId,
      replyTo: request.replyTo,
      createdAt: Date.now(),
    }),
  );
  return { record, outputPixels: outputPixels(width, height, request.settings.size) };
}
