import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import {
  initBackend,
  loadVggWeights,
  type RgbImage,
  type StylizeRequest,
  stylize,
  type VggWeights,
} from "../../src/engine/index.js";
import { decodeImage, encodeImage, resizeImage } from "../../src/images/index.js";
import { NOW } from "./looks.js";
import { meanAbsDifference } from "./measures.js";

/**
 * `npm run look:hd [-- --size 256 --photo tubingen.jpg --painting starry_night.jpg]`: what HD costs and
 * gives, on the real VGG19 weights (blocks 1–3, ../shared/reference, never copied into the repository).
 * One pair: a result at `size` with the engine's defaults (what /stylize paints), then HD at twice the
 * size two ways, in the same run: (a) painting the photo again at that size, as HD did before, and
 * (b) refining the result as the bot's HD now does (the result as `initImage`, `startNoise: 0`, so the
 * engine skips the scales the result covers). Prints each run's plan, steps and engine time, the ratio,
 * and how far each HD picture moved from the result; writes result | HD from the photo | HD refine to
 * docs/look/hd-<photo>.jpg.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}
const reference = path.resolve(repo, option("reference", "../shared/reference"));
const outDir = path.resolve(repo, option("out", "docs/look"));
const size = Number(option("size", "256"));
const photoFile = option("photo", "tubingen.jpg");
const paintingFile = option("painting", "starry_night.jpg");
const SEED = 1;
/** Long edge of one cell of the side-by-side: small enough that the JPEG stays ~100 KB. */
const CELL = 360;

interface Run {
  readonly image: RgbImage;
  readonly seconds: number;
  readonly plan: string;
  readonly steps: number[];
  readonly loss: number;
}

async function referenceImage(folder: string, file: string): Promise<RgbImage> {
  const bytes = await readFile(path.join(reference, "images", folder, file));
  return (await decodeImage(bytes, { maxEdge: 1024 })).image;
}

async function paint(weights: VggWeights, request: StylizeRequest): Promise<Run> {
  let plan = "";
  const steps: number[] = [];
  for await (const event of stylize(weights, request)) {
    if (event.type === "start") plan = event.plan.map((s) => `${s.width}×${s.height}`).join(" → ");
    if (event.type === "step") steps[event.scale] = event.step;
    if (event.type === "done") {
      return { image: event.image, seconds: event.elapsedMs / 1000, plan, steps, loss: event.losses.total };
    }
  }
  throw new Error("the run ended without a result");
}

function describe(label: string, run: Run): string {
  return `${label}: ${run.seconds.toFixed(1)} s engine time, scales ${run.plan}, steps ${run.steps.join(" + ")}, final loss ${run.loss.toExponential(3)}`;
}

async function sideBySide(images: readonly RgbImage[]): Promise<Buffer> {
  const cells = await Promise.all(
    images.map(async (image) =>
      sharp(await encodeImage(image, { format: "png" }))
        .resize(CELL, CELL, { fit: "contain", background: "#ffffff" })
        .png()
        .toBuffer(),
    ),
  );
  return sharp({ create: { width: CELL * cells.length, height: CELL, channels: 3, background: "#ffffff" } })
    .composite(cells.map((input, i) => ({ input, left: i * CELL, top: 0 })))
    .jpeg({ quality: 78 })
    .toBuffer();
}

async function main(): Promise<void> {
  const backend = await initBackend({});
  const weights = await loadVggWeights(path.join(reference, "vgg19/model-block1-3.json"), "given");
  const photo = await referenceImage("content", photoFile);
  const painting = await referenceImage("style", paintingFile);
  // The engine's defaults (balanced, L-BFGS, start noise, jitter) on the block 1–3 layers.
  const base = { ...NOW, content: photo, styles: [{ image: painting, weight: 1 }], seed: SEED };
  console.log(
    `backend ${backend.name}; ${photoFile} × ${paintingFile}; seed ${SEED}; ${size} → ${2 * size} px`,
  );

  const result = await paint(weights, { ...base, size });
  console.log(describe(`result at ${size} px`, result));
  // Both HD runs, one after the other in this process, so the ratio is from one machine state.
  const fromPhoto = await paint(weights, { ...base, size: 2 * size });
  console.log(describe(`(a) HD from the photo, ${2 * size} px`, fromPhoto));
  const refine = await paint(weights, { ...base, size: 2 * size, initImage: result.image, startNoise: 0 });
  console.log(describe(`(b) HD refining the result, ${2 * size} px`, refine));
  console.log(`refine ÷ from the photo: ${(refine.seconds / fromPhoto.seconds).toFixed(2)} of the time`);

  const { width, height } = refine.image;
  const liked = await resizeImage(result.image, width, height);
  console.log(
    `mean |Δ| per channel from the ${size} px result (enlarged): (a) ${meanAbsDifference(fromPhoto.image, liked).toFixed(1)}, ` +
      `(b) ${meanAbsDifference(refine.image, liked).toFixed(1)}; (a) vs (b) ${meanAbsDifference(fromPhoto.image, refine.image).toFixed(1)}`,
  );
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `hd-${photoFile.split(".")[0]}.jpg`);
  await writeFile(file, await sideBySide([liked, fromPhoto.image, refine.image]));
  console.log(
    `wrote ${path.relative(repo, file)}: the ${size} px result | (a) HD from the photo | (b) HD refine`,
  );
}

await main();
