import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseManifest } from "./manifest.js";

/**
 * Where model files live. One place so the CLI, the bot and `npm run models` always agree.
 * Works both from `src/` (tests) and from the compiled `dist/` tree.
 */

/** The repository root: the nearest folder above this module holding a package.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root above ${import.meta.url}`);
    dir = parent;
  }
  return dir;
}

/** Folder holding the manifests (`models/*.json`). */
export function manifestsDir(): string {
  return path.join(repoRoot(), "models");
}

/** Folder downloads go to unless STYLIZE_MODELS_DIR (read by src/config.ts) names another: `models/weights`. */
export function defaultModelsDir(): string {
  return path.join(manifestsDir(), "weights");
}

/** The file `npm run models` downloads for the engine: entry `vgg19-notop` of models/vgg19.json. */
const VGG19_FILE = "vgg19-notop";

/** Where `npm run models` puts the engine's VGG19 weights inside `modelsDir`: the manifest entry's dest. */
export function vgg19WeightsFile(modelsDir: string): string {
  const manifestFile = path.join(manifestsDir(), "vgg19.json");
  const manifest = parseManifest(JSON.parse(readFileSync(manifestFile, "utf8")), manifestFile);
  const entry = manifest.files.find((f) => f.name === VGG19_FILE);
  if (!entry) throw new Error(`${manifestFile} has no "${VGG19_FILE}" entry`);
  return path.join(modelsDir, entry.dest);
}
