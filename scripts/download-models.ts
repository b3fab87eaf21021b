import path from "node:path";
import { pathToFileURL } from "node:url";
import cliProgress from "cli-progress";
import { Command } from "commander";
import { downloadFile } from "../src/engine/weights/download.js";
import { type ModelFile, readManifests, selectFiles } from "../src/engine/weights/manifest.js";
import { manifestsDir, modelsDir } from "../src/engine/weights/paths.js";

/**
 * `npm run models [-- --only <name>…]`: fetch every file listed in models/*.json into the models dir,
 * one progress bar per file, then a summary. Files already present and verified are skipped, and an
 * interrupted run resumes where it stopped.
 */

type Outcome =
  | { file: ModelFile; status: "downloaded" | "present" }
  | { file: ModelFile; status: "failed"; error: string };

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Runs the command for `argv` (as in process.argv) and resolves to the exit code. */
export async function runModelsCommand(argv: readonly string[]): Promise<number> {
  const options = new Command("npm run models --")
    .description("Download the model files listed in models/*.json (verified by checksum, resumable).")
    .option("--only <names...>", "only these files or manifests, e.g. --only vgg19-notop")
    .option("--manifests <dir>", "folder of manifests to read", manifestsDir())
    .parse(argv)
    .opts<{ only?: string[]; manifests: string }>();

  const target = modelsDir();
  const files = selectFiles(await readManifests(options.manifests), options.only ?? []);
  console.log(`Downloading ${files.length} model file(s) into ${target}`);

  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onInterrupt);

  // cli-progress draws on stderr and only on a terminal; elsewhere (CI, logs) print one line per file.
  const bars = process.stderr.isTTY
    ? new cliProgress.MultiBar(
        { format: " {bar} {percentage}% | {name} | {receivedMb}/{totalMb} MB", hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const outcomes: Outcome[] = [];
  for (const file of files) {
    if (!bars) console.log(`  … ${file.name} (${mb(file.bytes)} MB) from ${file.url}`);
    const bar = bars?.create(file.bytes, 0, { name: file.name, receivedMb: mb(0), totalMb: mb(file.bytes) });
    try {
      const result = await downloadFile({
        url: file.url,
        dest: path.join(target, file.dest),
        bytes: file.bytes,
        checksum: file.checksum,
        signal: controller.signal,
        onProgress: ({ receivedBytes }) => bar?.update(receivedBytes, { receivedMb: mb(receivedBytes) }),
      });
      bar?.update(file.bytes, { receivedMb: mb(file.bytes) });
      outcomes.push({ file, status: result.skipped ? "present" : "downloaded" });
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
      const what =
        outcome.status === "present"
          ? "already present, checksum verified"
          : `downloaded (${mb(file.bytes)} MB)`;
      console.log(`  ✔ ${file.name}: ${what} → ${path.join(target, file.dest)}`);
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
