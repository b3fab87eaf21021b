import type { RgbImage } from "../engine/index.js";
import { differenceHash, encodeImage, fitWithin, hammingDistance, resizeImage } from "../images/index.js";
import { type GuildPreset, PresetNameTakenError, type Store } from "../store/index.js";
import type { PresetCatalog } from "./presets.js";
import { UserError } from "./user-error.js";

/**
 * Members' own style presets: checks on a submission (name, near-duplicate image) and how it is stored.
 * Moderation itself is plain store updates; who may do it is decided in moderators.ts.
 */

export const NAME_LENGTH = [2, 32] as const;
export const DESCRIPTION_LENGTH = 200;
/** Hashes this close (of 64 bits) are the same picture re-encoded, resized or lightly edited. */
export const NEAR_DUPLICATE_BITS = 6;
const STORED_EDGE = 1024;
const THUMBNAIL_EDGE = 256;

/** A submission that cannot be taken (its name, its picture); the message says why. */
export class SubmissionError extends UserError {
  constructor(message: string) {
    super("preset_submission", message);
  }
}

/** Trims and collapses spaces; throws SubmissionError with a member-facing reason when invalid. */
export function normalizePresetName(raw: string, builtIn: PresetCatalog): string {
  const name = raw.trim().replace(/\s+/g, " ");
  if (name.length < NAME_LENGTH[0] || name.length > NAME_LENGTH[1]) {
    throw new SubmissionError(`A style name needs ${NAME_LENGTH[0]}–${NAME_LENGTH[1]} characters.`);
  }
  if (!/^[\p{L}\p{N}][\p{L}\p{N} '’.,&_-]*$/u.test(name) || /^community:/i.test(name)) {
    throw new SubmissionError(
      "Use letters, digits, spaces and simple punctuation (' . , & - _) for the name, starting with a letter or digit.",
    );
  }
  const lower = name.toLowerCase();
  if (builtIn.presets.some((p) => p.id === lower || p.title.toLowerCase() === lower)) {
    throw new SubmissionError(`“${name}” is already one of the built-in styles — pick another name.`);
  }
  return name;
}

export interface Submission {
  readonly guildId: string;
  readonly submitterId: string;
  readonly name: string;
  readonly description?: string;
  readonly image: RgbImage;
  readonly autoApprove: boolean;
}

/**
 * Stores a validated submission, pending unless the guild approves automatically. `commit` runs the
 * insert (given the bytes it stores), so the submission limits can be checked in the same transaction.
 */
export async function submitPreset(
  store: Store,
  catalog: PresetCatalog,
  submission: Submission,
  commit: (bytes: number, insert: () => GuildPreset) => GuildPreset = (_bytes, insert) => insert(),
): Promise<GuildPreset> {
  const description = submission.description?.trim();
  if (description && description.length > DESCRIPTION_LENGTH) {
    throw new SubmissionError(`Keep the description under ${DESCRIPTION_LENGTH} characters.`);
  }
  const phash = await differenceHash(submission.image);
  const twin = await nearDuplicate(store, catalog, submission.guildId, phash);
  if (twin) throw new SubmissionError(`That painting looks just like “${twin}”, which is already here.`);
  if (store.presetByName(submission.guildId, submission.name)) throw nameTaken(submission.name);
  const fitted = fitWithin(submission.image.width, submission.image.height, STORED_EDGE);
  const stored =
    fitted.width < submission.image.width
      ? await resizeImage(submission.image, fitted.width, fitted.height)
      : submission.image;
  const small = fitWithin(stored.width, stored.height, THUMBNAIL_EDGE);
  const thumbnail = await encodeImage(await resizeImage(stored, small.width, small.height), {
    format: "jpeg",
    quality: 80,
  });
  const image = await encodeImage(stored, { format: "jpeg", quality: 92 });
  try {
    return commit(image.length + thumbnail.length, () =>
      store.addPreset({
        guildId: submission.guildId,
        name: submission.name,
        description: description || undefined,
        submitterId: submission.submitterId,
        status: submission.autoApprove ? "approved" : "pending",
        image,
        thumbnail,
        phash,
      }),
    );
  } catch (error) {
    // Two members submitting the same name at once: the store's unique index decides.
    if (error instanceof PresetNameTakenError) throw nameTaken(submission.name);
    throw error;
  }
}

/** Renames a community style, refusing a name another style here already has. */
export function renamePreset(store: Store, presetId: number, name: string): void {
  try {
    store.renamePreset(presetId, name);
  } catch (error) {
    if (error instanceof PresetNameTakenError) throw nameTaken(name);
    throw error;
  }
}

function nameTaken(name: string): SubmissionError {
  return new SubmissionError(`This server already has a style called “${name}” — pick another name.`);
}

/** Built-in painting hashes, computed once per process (the files don't change while it runs). */
const builtInHashes = new Map<string, Promise<string | undefined>>();

/** The name of a guild preset (pending or approved) or built-in painting within the distance, if any. */
async function nearDuplicate(
  store: Store,
  catalog: PresetCatalog,
  guildId: string,
  phash: string,
): Promise<string | undefined> {
  const community = store.presets(guildId).filter((p) => p.status !== "rejected");
  const close = community.find((p) => hammingDistance(p.phash, phash) <= NEAR_DUPLICATE_BITS);
  if (close) return close.name;
  for (const preset of catalog.presets) {
    let hash = builtInHashes.get(preset.file);
    if (!hash) {
      hash = catalog.image(preset).then(differenceHash, () => undefined); // not downloaded: nothing to compare
      builtInHashes.set(preset.file, hash);
    }
    const builtIn = await hash;
    if (builtIn && hammingDistance(builtIn, phash) <= NEAR_DUPLICATE_BITS) return preset.title;
  }
  return undefined;
}
