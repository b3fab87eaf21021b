import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { RgbImage } from "../engine/types.js";
import { ManifestError, ModelFileSchema, ModelManifestSchema } from "../engine/weights/manifest.js";
import { decodeImage, encodeImage, resizeImage, scaleToLongEdge } from "../images/index.js";

/**
 * The built-in styles: public-domain paintings listed in a model manifest (`models/paintings.json`) whose
 * file entries also carry the painting's title, artist and year. `npm run models` fetches the images into
 * the models dir like any other model file; a preset whose image is missing is reported as such.
 */

const PaintingFileSchema = ModelFileSchema.extend({
  title: z.string().min(1),
  artist: z.string().min(1),
  /** A year or a span such as "c. 1831". */
  year: z.string().min(1),
});

const PaintingsManifestSchema = ModelManifestSchema.extend({ files: z.array(PaintingFileSchema).min(1) });

export interface Preset {
  /** The manifest's file name, e.g. `starry-night`; what the `style` option holds. */
  readonly id: string;
  readonly title: string;
  readonly artist: string;
  readonly year: string;
  readonly sourceUrl: string;
  readonly licence: string;
  readonly file: string;
}

/** Discord shows at most 25 autocomplete choices. */
export const MAX_CHOICES = 25;

export class PresetUnavailableError extends Error {
  override readonly name = "PresetUnavailableError";
}

export class PresetCatalog {
  readonly #byId: ReadonlyMap<string, Preset>;
  readonly #images = new Map<string, Promise<RgbImage>>();
  readonly #thumbnails = new Map<string, Promise<Buffer>>();

  constructor(readonly presets: readonly Preset[]) {
    this.#byId = new Map(presets.map((p) => [p.id, p]));
  }

  /** A missing manifest gives an empty catalog (the bot still runs and says so); a broken one throws. */
  static async load(manifestFile: string, modelsDir: string): Promise<PresetCatalog> {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(manifestFile, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new PresetCatalog([]);
      throw new ManifestError(
        `cannot read the presets manifest ${manifestFile}: ${(error as Error).message}`,
      );
    }
    const parsed = PaintingsManifestSchema.safeParse(data);
    if (!parsed.success) {
      throw new ManifestError(`invalid presets manifest ${manifestFile}:\n${z.prettifyError(parsed.error)}`);
    }
    return new PresetCatalog(
      parsed.data.files.map((f) => ({
        id: f.name,
        title: f.title,
        artist: f.artist,
        year: f.year,
        sourceUrl: f.url,
        licence: f.licence,
        file: path.join(modelsDir, f.dest),
      })),
    );
  }

  get(id: string): Preset | undefined {
    return this.#byId.get(id);
  }

  /**
   * What a member meant by `style`: normally an id picked from autocomplete, but someone who typed a
   * title (or enough of one) without picking from the list means that painting too.
   */
  resolve(input: string): Preset | undefined {
    const typed = input.trim().toLowerCase();
    const byTitle = this.presets.find((p) => p.title.toLowerCase() === typed);
    const matches = this.search(typed);
    return this.get(input.trim()) ?? byTitle ?? (matches.length === 1 ? matches[0] : undefined);
  }

  /** Presets whose id, title or artist contain every word typed, best (prefix) matches first; ≤ 25. */
  search(query: string): Preset[] {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const haystack = (p: Preset) => `${p.id} ${p.title} ${p.artist} ${p.year}`.toLowerCase();
    const matches = this.presets.filter((p) => words.every((w) => haystack(p).includes(w)));
    const first = words[0];
    const startsWithQuery = (p: Preset) =>
      first !== undefined && (p.title.toLowerCase().startsWith(first) || p.id.startsWith(first));
    return [...matches.filter(startsWithQuery), ...matches.filter((p) => !startsWithQuery(p))].slice(
      0,
      MAX_CHOICES,
    );
  }

  /** The painting's pixels, decoded once and kept (presets are few and small). */
  image(preset: Preset): Promise<RgbImage> {
    let image = this.#images.get(preset.id);
    if (!image) {
      image = readPresetFile(preset).then(
        async (bytes) => (await decodeImage(bytes, { maxEdge: 1024 })).image,
      );
      image.catch(() => this.#images.delete(preset.id));
      this.#images.set(preset.id, image);
    }
    return image;
  }

  /** A small JPEG of the painting for /styles. */
  thumbnail(preset: Preset): Promise<Buffer> {
    let thumbnail = this.#thumbnails.get(preset.id);
    if (!thumbnail) {
      thumbnail = this.image(preset).then(async (image) => {
        const size = scaleToLongEdge(image.width, image.height, 256);
        return encodeImage(await resizeImage(image, size.width, size.height), {
          format: "jpeg",
          quality: 80,
        });
      });
      thumbnail.catch(() => this.#thumbnails.delete(preset.id));
      this.#thumbnails.set(preset.id, thumbnail);
    }
    return thumbnail;
  }
}

export function describePreset(preset: Preset): string {
  return `${preset.title} — ${preset.artist}, ${preset.year}`;
}

async function readPresetFile(preset: Preset): Promise<Uint8Array> {
  try {
    return await readFile(preset.file);
  } catch {
    throw new PresetUnavailableError(
      `The painting for “${preset.title}” hasn't been downloaded on this server yet — ask the bot's admin to run \`npm run models\`.`,
    );
  }
}
