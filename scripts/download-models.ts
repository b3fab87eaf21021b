import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import cliProgress from "cli-progress";
import { Command } from "commander";
import { loadEngineConfig } from "../src/config.js";
import { decodeImage, isImageInputError } from "../src/images/index.js";
import { downloadFile, sidecarPath, type Verification } from "../src/models/download.js";
import {
  ManifestError,
  type ModelFile,
  type ModelManifest,
  readManifests,
  selectFiles,
} from "../src/models/manifest.js";
import { manifestsDir } from "../src/models/paths.js";

/**
 * `npm run models [-- --only <name>…]`: fetch every file listed in models/*.json into the models dir,
 * one progress bar per file, then a summary. Files already present and verified are skipped, and an
 * interrupted run resumes where it stopped. Files with a published checksum are checked against it;
 * files declaring `"verify": "image"` must decode as an image, and their sha256 is recorded next to them
 * (see src/models/manifest.ts for the rule).
 */

/** The engine cannot run without these, so they are fetched before anything else (e.g. the paintings). */
const FIRST_MANIFESTS = ["vgg19"];

type Outcome =
  | { file: ModelFile; status: "downloaded" | "present"; bytes: number }
  | { file: ModelFile; status: "failed"; error: string };

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** The engine's weights first, then the rest in file-name order. */
function inDownloadOrder(manifests: readonly ModelManifest[]): ModelManifest[] {
  const rank = (m: ModelManifest) => {
    const index = FIRST_MANIFESTS.indexOf(m.name);
    return index === -1 ? FIRST_MANIFESTS.length : index;
  };
  return [...manifests].sort((a, b) => rank(a) - rank(b));
}

/** How the downloader checks a file, from its manifest entry (whose schema guarantees one of the two). */
function verificationFor(file: ModelFile): Verification {
  if (file.checksum) return { checksum: file.checksum };
  if (file.verify === "image") return { verify: verifyImageFile };
  throw new ManifestError(`model file "${file.name}" has neither a checksum nor "verify"`);
}

/** Accepts the file only if it decodes as an image (which refuses non-images, corrupt files and bombs). */
async function verifyImageFile(file: string): Promise<void> {
  try {
    await decodeImage(await readFile(file));
  } catch (error) {
    if (!isImageInputError(error)) throw error;
    throw new Error(`not a usable image (${error.code}): ${error.message}`, { cause: error });
  }
}

/**
 * Runs the command for `argv` (as in process.argv) and resolves to the exit code. Files go to the models
 * dir of the configuration (STYLIZE_MODELS_DIR or models/weights).
 */
export async function runModelsCommand(
  argv: readonly string[],
  target = loadEngineConfig().modelsDir,
): Promise<number> {
  const options = new Command("npm run models --")
    .description("Download the model files listed in models/*.json (verified by checksum, resumable).")
    .option("--only <names...>", "only these files or manifests, e.g. --only vgg19-notop")
    .option("--manifests <dir>", "folder of manifests to read", manifestsDir())
    .parse(argv)
    .opts<{ only?: string[]; manifests: string }>();

  const files = selectFiles(inDownloadOrder(await readManifests(options.manifests)), options.only ?? []);
  console.log(`Downloading ${files.length} model file(s) into ${target}`);

  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onInterrupt);

  // cli-progress draws on stderr and only on a terminal; elsewhere (CI, logs) print one line per file.
  const bars = process.stderr.isTTY
    ? new cliProgress.MultiBar(
        {
          format: " {bar} {percentage}% | {name} | {receivedMb}/{totalMb} MB",
          hideCursor: true,
          emptyOnZero: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const outcomes: Outcome[] = [];
  for (const file of files) {
    const size = file.bytes === undefined ? "size unknown" : `${mb(file.bytes)} MB`;
    if (!bars) console.log(`  … ${file.name} (${size}) from ${file.url}`);
    // Without a size in the manifest the bar's total comes from the server's Content-Length, if any.
    const bar = bars?.create(file.bytes ?? 0, 0, {
      name: file.name,
      receivedMb: mb(0),
      totalMb: file.bytes === undefined ? "?" : mb(file.bytes),
    });
    try {
      const result = await downloadFile({
        ...verificationFor(file),
        url: file.url,
        dest: path.join(target, file.dest),
        ...(file.bytes === undefined ? {} : { bytes: file.bytes }),
        signal: controller.signal,
        onProgress: ({ receivedBytes, totalBytes }) => {
          if (totalBytes !== undefined && bar?.getTotal() !== totalBytes) {
            bar?.setTotal(totalBytes);
            bar?.update({ totalMb: mb(totalBytes) });
          }
          bar?.update(receivedBytes, { receivedMb: mb(receivedBytes) });
        },
      });
      bar?.setTotal(result.bytes);
      bar?.update(result.bytes, { receivedMb: mb(result.bytes), totalMb: mb(result.bytes) });
      outcomes.push({ file, status: result.skipped ? "present" : "downloaded", bytes: result.bytes });
    } catch (error) {
      outcomes.push({
        file,
        status: "failed",
        error: error instanceof Error ? error.message : String(error),
      });
      if (controller.signal.aborted) break;
    }
  }
  bars?.stop();
  process.off("SIGINT", onInterrupt);
  return summarise(outcomes, files.length, target);
}

function summarise(outcomes: readonly Outcome[], planned: number, target: string): number {
  console.log("");
  for (const outcome of outcomes) {
    const { file } = outcome;
    if (outcome.status === "failed") console.log(`  ✖ ${file.name}: ${outcome.error}`);
    else {
      const dest = path.join(target, file.dest);
      const how = file.checksum ? "checksum verified" : `matches the sha256 recorded in ${sidecarPath(dest)}`;
      const what =
        outcome.status === "present"
          ? `already present, ${how}`
          : file.checksum
            ? `downloaded (${mb(outcome.bytes)} MB)`
            : `downloaded (${mb(outcome.bytes)} MB), checked as an image, sha256 recorded in ${sidecarPath(dest)}`;
      console.log(`  ✔ ${file.name}: ${what} → ${dest}`);
    }
  }
  const failed = outcomes.filter((o) => o.status === "failed").length + (planned - outcomes.length);
  if (failed === 0) {
    console.log(`\nAll ${planned} model file(s) are in place.`);
    return 0;
  }
  console.error(
    `\n${failed} of ${planned} model file(s) could not be downloaded. Fix the problem above ` +
      "(network, disk space, proxy) and run `npm run models` again: verified files are kept and partial ones resume.",
  );
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runModelsCommand(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`npm run models failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
