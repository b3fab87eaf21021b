import sharp from "sharp";
import { fitLongEdge, minimumOutputEdge, planScales, resolveSchedule } from "../engine/index.js";
import type { EngineOptions } from "./engine-protocol.js";
import { type JobPlan, stepsKey } from "./expected-steps.js";
import type { JobSettings } from "./job.js";

/**
 * The plan the engine will make for a job (planScales: each scale's size and step cap), made before the
 * job runs so that estimates count the work of the job's own ladder: HD's starting picture drops the
 * scales it already covers, a small photo has fewer scales.
 */

/** The size of a photo or starting picture, from its file's header. */
export interface PictureSize {
  readonly width: number;
  readonly height: number;
}

/** What a plan needs to know of a job. */
export interface PlanInput {
  readonly settings: Pick<JobSettings, "quality" | "size">;
  readonly content: PictureSize;
  /** The picture the run starts from instead of the photo (HD refining a result), if any. */
  readonly init?: PictureSize;
  /** The engine options the runner gives every job (tests shorten runs this way). */
  readonly engineOptions: EngineOptions;
}

export function planJob({ settings, content, init, engineOptions }: PlanInput): JobPlan {
  const options: EngineOptions = { ...engineOptions, size: settings.size, quality: settings.quality };
  const startEdge = init ? Math.max(init.width, init.height) : 0;
  const key = (scales: number) => stepsKey(options, scales, init !== undefined);
  const schedule = resolveSchedule(options);
  try {
    const scales = planScales(content, settings.size, schedule, minimumOutputEdge(options), startEdge);
    return { scales, key: key(scales.length) };
  } catch {
    // Too small for the layers: the job will fail at once; count it as one scale at the output size.
    const output = fitLongEdge(content.width, content.height, settings.size);
    return { scales: [{ ...output, steps: schedule.stepsPerScale }], key: key(1) };
  }
}

/** Width and height from an image file's header (no decoding). */
export async function pictureSize(image: Uint8Array): Promise<PictureSize> {
  const { width = 1, height = 1 } = await sharp(image).metadata();
  return { width, height };
}
