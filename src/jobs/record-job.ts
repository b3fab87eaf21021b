import type { BlobStore, Store } from "../store/index.js";
import { asJobRecord, type JobRecord, type JobRequest, newJobId } from "./job.js";
import { type PictureSize, pictureSize } from "./job-plan.js";

/**
 * A submitted request as a queued job row, with its photo, painting and starting picture stored as blobs
 * first (so a restart finds everything the row names). Both runners queue jobs this way.
 */
export async function recordJob(
  store: Store,
  blobs: BlobStore,
  request: JobRequest,
): Promise<{ record: JobRecord; content: PictureSize; init: PictureSize | undefined }> {
  const contentBlob = await blobs.put(request.content);
  const styleBlob = request.styleImage && (await blobs.put(request.styleImage));
  const initBlob = request.initImage && (await blobs.put(request.initImage));
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
  return {
    record,
    content: await pictureSize(request.content),
    init: request.initImage && (await pictureSize(request.initImage)),
  };
}
