import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { RgbImage } from "../engine/index.js";
import { decodeImage, encodeImage, resizeImage, scaleToLongEdge } from "../images/index.js";
import { ManifestError, ModelFileSchema, ModelManifestSchema } from "../models/manifest.js";
import { communityKey, type GuildPreset, parseCommunityKey, type Store } from "../store/index.js";
import { UserError } from "./user-error.js";

/**
 * The built-in styles: public-domain paintings listed in a model manifest (`models/paintings.json`) whose
 * file entries also carry the painting's title, artist and year. `npm run models` fetches the images into
 * the models dir like any other model file; a preset whose image is missing is reported as such.
 * With a store, a guild's approved community presets (`community:<id>`, image in the store) join them
 * wherever a guild is given.
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
  /** Set for a guild's community preset, whose image lives in the store rather than in a file. */
  readonly community?: {
    readonly presetId: number;
    readonly guildId: string;
    readonly submitterId: string;
    readonly description: string | undefined;
  };
}

/** How a member's style choice weighs in autocomplete: results made with it and votes they got. */
export type Popularity = ReadonlyMap<string, { readonly uses: number; readonly votes: number }>;

/** Discord shows at most 25 autocomplete choices. */
export const MAX_CHOICES = 25;

/** A style whose painting is missing (not downloaded, or a community style removed). */
export class PresetUnavailableError extends UserError {
  constructor(message: string) {
    super("preset_unavailable", message);
  }
}

export class PresetCatalog {
  readonly #byId: ReadonlyMap<string, Preset>;
  readonly #images = new Map<string, Promise<RgbImage>>();
  readonly #thumbnails = new Map<string, Promise<Buffer>>();

  readonly #store: Store | undefined;

  /** `presets` are the built-in ones; `store` adds each guild's approved community presets. */
  constructor(
    readonly presets: readonly Preset[],
    store?: Store,
  ) {
    this.#byId = new Map(presets.map((p) => [p.id, p]));
    this.#store = store;
  }

  /** The same built-in presets, plus the community presets in `store`. */
  withStore(store: Store): PresetCatalog {
    return new PresetCatalog(this.presets, store);
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

  /** A built-in preset, or an approved community preset of `guildId` (never another guild's). */
  get(id: string, guildId?: string): Preset | undefined {
    const builtIn = this.#byId.get(id);
    if (builtIn || guildId === undefined) return builtIn;
    const communityId = parseCommunityKey(id);
    const preset = communityId === undefined ? undefined : this.#store?.preset(communityId);
    return preset && preset.guildId === guildId && preset.status === "approved"
      ? communityPreset(preset)
      : undefined;
  }

  /** Built-in presets followed by the guild's approved community presets. */
  available(guildId?: string): Preset[] {
    const community = guildId ? (this.#store?.presets(guildId, "approved") ?? []) : [];
    return [...this.presets, ...community.map(communityPreset)];
  }

  /**
   * What a member meant by `style`: normally an id picked from autocomplete, but someone who typed a
   * title (or enough of one) without picking from the list means that painting too.
   */
  resolve(input: string, guildId?: string): Preset | undefined {
    const byId = this.get(input.trim(), guildId);
    if (byId) return byId;
    const typed = input.trim().toLowerCase();
    const byTitle = this.available(guildId).find((p) => p.title.toLowerCase() === typed);
    if (byTitle) return byTitle;
    const matches = this.search(typed, { guildId });
    return matches.length === 1 ? matches[0] : undefined;
  }

  /**
   * Whether the painting can be used now: a community style always, a built-in one once downloaded (looked
   * up each time — a stat is cheap, and `npm run models` may add paintings while the bot runs).
   */
  isInstalled(preset: Preset): boolean {
    return preset.community !== undefined || existsSync(preset.file);
  }

  /**
   * Installed presets whose id, title or artist contain every word typed: prefix matches first, and within
   * each group the most used and voted for in the guild first; ≤ 25.
   */
  search(query: string, options: { guildId?: string; popularity?: Popularity } = {}): Preset[] {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const haystack = (p: Preset) => `${p.id} ${p.title} ${p.artist} ${p.year}`.toLowerCase();
    const matches = this.available(options.guildId).filter(
      (p) => this.isInstalled(p) && words.every((w) => haystack(p).includes(w)),
    );
    const first = words[0];
    const startsWithQuery = (p: Preset) =>
      first !== undefined && (p.title.toLowerCase().startsWith(first) || p.id.startsWith(first));
    const score = (p: Preset) => {
      const used = options.popularity?.get(p.id);
      return used ? used.uses + used.votes : 0;
    };
    // Array.prototype.sort is stable: equally popular presets keep the manifest's order.
    const byPopularity = (a: Preset, b: Preset) => score(b) - score(a);
    return [
      ...matches.filter(startsWithQuery).sort(byPopularity),
      ...matches.filter((p) => !startsWithQuery(p)).sort(byPopularity),
    ].slice(0, MAX_CHOICES);
  }

  /**
   * The painting's pixels, decoded once and kept (built-in presets are few and small). Community presets,
   * which may be many, are decoded from the store each time.
   */
  image(preset: Preset): Promise<RgbImage> {
    if (preset.community) {
      return Promise.resolve()
        .then(() => decodeImage(this.#communityImage(preset).image, { maxEdge: 1024 }))
        .then((decoded) => decoded.image);
    }
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

  /** The painting's file as stored (what the engine decodes); rejects with PresetUnavailableError. */
  async imageFile(preset: Preset): Promise<Uint8Array> {
    return preset.community ? this.#communityImage(preset).image : readPresetFile(preset);
  }

  /** A small JPEG of the painting for /styles (community presets keep theirs in the store). */
  thumbnail(preset: Preset): Promise<Buffer> {
    if (preset.community) return Promise.resolve().then(() => this.#communityImage(preset).thumbnail);
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

  #communityImage(preset: Preset): { image: Buffer; thumbnail: Buffer } {
    const stored = preset.community && this.#store?.presetImage(preset.community.presetId);
    if (!stored) throw new PresetUnavailableError(`The community style “${preset.title}” was removed.`);
    return stored;
  }
}

export function describePreset(preset: Preset): string {
  if (preset.community) {
    const about = preset.community.description ? ` — ${preset.community.description}` : "";
    return `${preset.title} (community)${about}`;
  }
  return `${preset.title} — ${preset.artist}, ${preset.year}`;
}

function communityPreset(preset: GuildPreset): Preset {
  return {
    id: communityKey(preset.id),
    title: preset.name,
    artist: "community preset",
    year: "",
    sourceUrl: "",
    licence: "submitted by a member of this server",
    file: "",
    community: {
      presetId: preset.id,
      guildId: preset.guildId,
      submitterId: preset.submitterId,
      description: preset.description,
    },
  };
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
