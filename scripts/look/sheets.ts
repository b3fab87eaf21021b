import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import {
  DEFAULT_LOSS_WEIGHTS,
  initBackend,
  type LossBreakdown,
  loadVggWeights,
  type Quality,
  type RgbImage,
  stylize,
  type VggWeights,
} from "../../src/engine/index.js";
import { decodeImage, encodeImage, resizeImage } from "../../src/images/index.js";
import { lossFigure } from "./figure.js";
import { BEFORE, type Look, NOW } from "./looks.js";
import { gridEnergy, meanAbsDifference, strokeScale } from "./measures.js";

/**
 * `npm run look:sheets [-- --size 256 --quality balanced --only tubingen --presets no]`: the contact sheets and the figure of docs/look.md,
 * painted with the real VGG19 weights (blocks 1–3) and photos and paintings in ../shared/reference (never
 * copied into the repository; only our own output images are written, to docs/look/). Each sheet row:
 * photo, painting, before (the old defaults), now (today's defaults), and on the first pair now with
 * another seed; the preset sheet: fast, balanced, hq at today's defaults on the first pair. Prints a table of the measures beside the sheets.
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
const only = option("only", "");
const quality = option("quality", "balanced") as Quality;
/** The preset sheet's hq run alone takes ~6× a fast one: `--presets no` leaves the sheet out. */
const presets = option("presets", "yes") === "yes";
/** Long edge of one cell in a sheet: small enough that a sheet stays ~150 KB. */
const CELL = 300;

const PAIRS = [
  { name: "tubingen-starry", photo: "tubingen.jpg", painting: "starry_night.jpg" },
  { name: "golden-gate-scream", photo: "golden_gate.jpg", painting: "the_scream.jpg" },
  { name: "hoover-wave", photo: "hoovertowernight.jpg", painting: "great_wave_off_kanagawa.jpg" },
] as const;

interface Painted {
  readonly image: RgbImage;
  readonly losses: LossBreakdown;
  readonly seconds: number;
}

async function referenceImage(folder: string, file: string): Promise<RgbImage> {
  const bytes = await readFile(path.join(reference, "images", folder, file));
  return (await decodeImage(bytes, { maxEdge: 1024 })).image;
}

async function paint(weights: VggWeights, content: RgbImage, style: RgbImage, look: Look): Promise<Painted> {
  const request = {
    quality,
    ...look,
    content,
    styles: [{ image: style, weight: 1 }],
    size,
    previewEverySeconds: 0,
  };
  for await (const event of stylize(weights, request)) {
    if (event.type === "done") {
      return { image: event.image, losses: event.losses, seconds: event.elapsedMs / 1000 };
    }
  }
  throw new Error("the run ended without a result");
}

/** Images side by side, each fitted into CELL × CELL on white, as one JPEG. */
async function sheet(images: readonly RgbImage[]): Promise<Buffer> {
  const cells = await Promise.all(
    images.map(async (image) =>
      sharp(await encodeImage(image, { format: "png" }))
        .resize(CELL, CELL, { fit: "contain", background: "#ffffff" })
        .png()
        .toBuffer(),
    ),
  );
  return sharp({
    create: { width: CELL * cells.length, height: CELL, channels: 3, background: "#ffffff" },
  })
    .composite(cells.map((input, i) => ({ input, left: i * CELL, top: 0 })))
    .jpeg({ quality: 78 })
    .toBuffer();
}

/** Style loss ÷ content loss with the weights divided out, so that looks with other weights compare. */
function unweightedRatio(painted: Painted, look: Look): number {
  const { content, style } = painted.losses;
  return style / look.styleWeight! / (content / (look.contentWeight ?? DEFAULT_LOSS_WEIGHTS.content));
}

function row(label: string, painted: Painted, photo: RgbImage): string {
  const { content, style } = painted.losses;
  return [
    label,
    (style / content).toFixed(3),
    (100 * strokeScale(painted.image, photo)).toFixed(2),
    meanAbsDifference(painted.image, photo).toFixed(1),
    gridEnergy(painted.image, 4).toFixed(3),
    painted.seconds.toFixed(0),
  ].join(" | ");
}

async function main(): Promise<void> {
  const backend = await initBackend({});
  const weights = await loadVggWeights(path.join(reference, "vgg19/model-block1-3.json"), "given");
  await mkdir(outDir, { recursive: true });
  console.log(
    `backend ${backend.name}, ${size} px, ${quality}. Columns: look | style ÷ content loss at the end |`,
  );
  console.log(
    "stroke scale (% of the long edge) | mean |painting − photo| | grid energy (stride 4) | seconds",
  );
  const ratios: { pair: string; before: number; now: number }[] = [];
  for (const pair of PAIRS.filter((p) => !only || p.name.includes(only))) {
    const photo = await referenceImage("content", pair.photo);
    const painting = await referenceImage("style", pair.painting);
    const before = await paint(weights, photo, painting, { ...BEFORE, seed: 1 });
    const now = await paint(weights, photo, painting, { ...NOW, seed: 1 });
    // Another seed (a Re-roll) on the first pair only: each run costs minutes on a CPU.
    const reroll = pair === PAIRS[0] ? await paint(weights, photo, painting, { ...NOW, seed: 2 }) : undefined;
    const shown = await resizeImage(photo, now.image.width, now.image.height);
    const file = path.join(outDir, `${pair.name}.jpg`);
    const cells = [shown, painting, before.image, now.image, ...(reroll ? [reroll.image] : [])];
    await writeFile(file, await sheet(cells));
    console.log(`\n${pair.name} → ${path.relative(repo, file)}`);
    console.log(row("before", before, shown));
    console.log(row("now, seed 1", now, shown));
    if (reroll) {
      console.log(row("now, seed 2", reroll, shown));
      console.log(`seed 1 vs seed 2: mean |Δ| ${meanAbsDifference(now.image, reroll.image).toFixed(1)}`);
    }
    ratios.push({ pair: pair.name, before: unweightedRatio(before, BEFORE), now: unweightedRatio(now, NOW) });
    if (presets && pair === PAIRS[0]) await presetSheet(weights, photo, painting, shown, now);
  }
  const figure = path.join(outDir, "style-vs-content.svg");
  await writeFile(figure, lossFigure(ratios));
  console.log(`\nfigure → ${path.relative(repo, figure)}`);
}

/** fast, balanced and hq at today's defaults, on the first pair (`now` is the one at the chosen quality). */
async function presetSheet(
  weights: VggWeights,
  photo: RgbImage,
  painting: RgbImage,
  shown: RgbImage,
  now: Painted,
): Promise<void> {
  const at = async (q: Quality) =>
    q === quality ? now : await paint(weights, photo, painting, { ...NOW, seed: 1, quality: q });
  const fast = await at("fast");
  const balanced = await at("balanced");
  const hq = await at("hq");
  const file = path.join(outDir, "presets.jpg");
  await writeFile(file, await sheet([fast.image, balanced.image, hq.image]));
  console.log(`\npresets → ${path.relative(repo, file)}`);
  console.log(row("fast", fast, shown));
  console.log(row("balanced", balanced, shown));
  console.log(row("hq", hq, shown));
}

await main();
