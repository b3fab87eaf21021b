import { JobStopError, type PrepareJob } from "../jobs/index.js";
import { type PresetCatalog, PresetUnavailableError } from "./presets.js";

/**
 * The bot's half of starting a job: its style, looked up when the job starts (a community style can be
 * removed while the job waits), as the painting's file for the engine to decode.
 */
export function prepareFromPresets(presets: PresetCatalog): PrepareJob {
  return async (job) => {
    const preset = presets.get(job.settings.presetId, job.guildId);
    if (!preset) throw new JobStopError("style_missing", "that style is no longer available on this bot");
    try {
      return { styles: [{ image: await presets.imageFile(preset), weight: 1 }] };
    } catch (error) {
      if (error instanceof PresetUnavailableError) throw new JobStopError("style_missing", error.message);
      throw error;
    }
  };
}
