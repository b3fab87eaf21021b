import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * Model manifests (`models/*.json`) list downloadable files with everything needed to fetch and verify
 * them. The format is generic so weights, paintings or anything else share one downloader.
 *
 * Verification rule: no file is ever taken unverified. Each file declares exactly one of
 * - `checksum` (with `bytes`): the published digest and size; the download must match both. Use this
 *   whenever the publisher states them or someone has measured a trusted copy.
 * - `"verify": "image"` (no `checksum`; `bytes` optional): for files nobody could measure. The finished
 *   download must decode as an image (`decodeImage`: refuses non-images, corrupt files and bombs) before
 *   it is renamed into place; its sha256 is then recorded in a sidecar `<dest>.sha256` (trust on first
 *   use), and later runs check the file against that record and download it again when it differs.
 *   Once the size and checksum are known, record them and drop `verify`.
 * A file with neither, or with both, is refused.
 */

const HEX_LENGTH = { md5: 32, sha256: 64 } as const;

export const ChecksumSchema = z
  .object({
    algorithm: z.enum(["md5", "sha256"]),
    hex: z.string().regex(/^[0-9a-f]+$/, "must be lowercase hexadecimal"),
  })
  .refine((c) => c.hex.length === HEX_LENGTH[c.algorithm], {
    message: "hex has the wrong length for its algorithm (md5: 32, sha256: 64)",
    path: ["hex"],
  });

/** A path inside the models dir: relative, forward slashes, never climbing out. */
const RelativeDest = z
  .string()
  .min(1)
  .refine(
    (p) => !p.includes("\\") && !path.posix.isAbsolute(p) && !path.posix.normalize(p).startsWith(".."),
    "must be a relative path inside the models dir (forward slashes, no '..')",
  );

/**
 * How a file without a published checksum is checked instead (see the rule above). Only "image" exists:
 * the download must decode as an image.
 */
export const VerifySchema = z.enum(["image"]);

/**
 * One downloadable file. The verification rule is a refinement on this object, so schemas built from it
 * with `.extend()` (new keys only, e.g. the bot's presets) keep enforcing it.
 */
export const ModelFileSchema = z
  .object({
    /** Short unique name, used by `npm run models -- --only <name>`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "use lowercase letters, digits, '.', '_' or '-'"),
    url: z.url({ protocol: /^https?$/ }),
    /** Exact size in bytes: required with `checksum`, optional with `verify`. */
    bytes: z.number().int().positive().optional(),
    /** The published digest; absent only when `verify` says how the file is checked instead. */
    checksum: ChecksumSchema.optional(),
    /** Only for files without `checksum`: `"image"` = must decode as an image, sha256 recorded on first use. */
    verify: VerifySchema.optional(),
    /** Where the file goes, relative to the models dir. */
    dest: RelativeDest,
    licence: z.string().min(1),
    /** Who publishes the file and where it comes from. */
    source: z.string().min(1),
    /** Where each fact above was checked, and anything else worth knowing. */
    notes: z.array(z.string()).optional(),
  })
  .superRefine((file, ctx) => {
    if (file.checksum !== undefined) {
      if (file.verify !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["verify"],
          message:
            'a file with a checksum is verified by it: drop "verify" (it is only for files without one)',
        });
      }
      if (file.bytes === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["bytes"],
          message: "a file with a checksum needs its size too",
        });
      }
    } else if (file.verify === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["checksum"],
        message:
          'missing: give the published checksum (and bytes), or, when none is known, "verify": "image" ' +
          "so the download is checked another way; a file is never taken unverified",
      });
    }
  });

export const ModelManifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string().min(1),
  files: z.array(ModelFileSchema).min(1),
  notes: z.array(z.string()).optional(),
});

export type Checksum = z.infer<typeof ChecksumSchema>;
export type ModelFile = z.infer<typeof ModelFileSchema>;
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

export class ManifestError extends Error {
  override name = "ManifestError";
}

/** Validate a parsed manifest; `label` (usually the file path) names it in errors. */
export function parseManifest(data: unknown, label: string): ModelManifest {
  const result = ModelManifestSchema.safeParse(data);
  if (!result.success) {
    throw new ManifestError(`invalid model manifest ${label}:\n${z.prettifyError(result.error)}`);
  }
  return result.data;
}

export async function readManifest(file: string): Promise<ModelManifest> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ManifestError(`cannot read model manifest ${file}: ${(error as Error).message}`);
  }
  return parseManifest(data, file);
}

/** Every `*.json` manifest directly inside `dir`, sorted by file name; file names must be unique across them. */
export async function readManifests(dir: string): Promise<ModelManifest[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  const manifests = await Promise.all(names.map((n) => readManifest(path.join(dir, n))));
  const seen = new Set<string>();
  for (const file of manifests.flatMap((m) => m.files)) {
    if (seen.has(file.name))
      throw new ManifestError(`model file name "${file.name}" appears twice in ${dir}`);
    seen.add(file.name);
  }
  return manifests;
}

/**
 * The files to fetch: all of them, or only those whose file name or manifest name is in `only`.
 * Unknown names are an error so a typo never silently downloads nothing.
 */
export function selectFiles(manifests: readonly ModelManifest[], only: readonly string[] = []): ModelFile[] {
  const all = manifests.flatMap((m) => m.files.map((file) => ({ manifest: m.name, file })));
  if (only.length === 0) return all.map((e) => e.file);
  const known = new Set(all.flatMap((e) => [e.manifest, e.file.name]));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ManifestError(
      `unknown model name(s): ${unknown.join(", ")}; known: ${[...known].sort().join(", ")}`,
    );
  }
  return all.filter((e) => only.includes(e.manifest) || only.includes(e.file.name)).map((e) => e.file);
}
