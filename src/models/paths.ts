import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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

/** Folder downloads go to: `$STYLIZE_MODELS_DIR` (relative to the working dir) or `models/weights`. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.STYLIZE_MODELS_DIR?.trim();
  return fromEnv ? path.resolve(fromEnv) : path.join(manifestsDir(), "weights");
}
