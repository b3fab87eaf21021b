import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend, loadVggWeights, type Quality, type RgbImage, stylize } from "../../src/engine/index.js";
import { decodeImage, encodeImage, resizeImage } from "../../src/images/index.js";
import { BEFORE, type Look } from "./looks.js";
import { gridEnergy, meanAbsDifference, strokeScale } from "./measures.js";

/**
 * `node dist/scripts/look/tune.js PHOTO:PAINTING SIZE QUALITY '{"tag":"w400","styleWeight":400}' …`: the
 * one-off runs that chose the defaults (docs/look.md, "Tuning"). Each JSON look is laid over the block 1–3
 * layers with equal weights (`layers` replaces them); prints one JSON line of measures per look and writes
 * its painting to /tmp/look/<photo>-<size>-<quality>-<tag>.png.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const reference = path.resolve(repo, "../shared/reference");
const [pairArg, sizeArg, quality, ...looks] = process.argv.slice(2);
const [photoFile, paintingFile] = (pairArg ?? "").split(":");

async function referenceImage(folder: string, file: string): Promise<RgbImage> {
  const bytes = await readFile(path.join(reference, "images", folder, file));
  return (await decodeImage(bytes, { maxEdge: 1024 })).image;
}

await initBackend({});
const weights = await loadVggWeights(path.join(reference, "vgg19/model-block1-3.json"), "given");
const photo = await referenceImage("content", photoFile!);
const painting = await referenceImage("style", paintingFile!);
await mkdir("/tmp/look", { recursive: true });
for (const json of looks) {
  const { tag, layers, ...look } = JSON.parse(json) as Look & { tag: string; layers?: Look["styleLayers"] };
  const request = {
    contentLayers: BEFORE.contentLayers,
    styleLayers: layers ?? BEFORE.styleLayers,
    ...look,
    content: photo,
    styles: [{ image: painting, weight: 1 }],
    size: Number(sizeArg),
    quality: quality as Quality,
    previewEverySeconds: 0,
    seed: look.seed ?? 1,
  };
  const started = Date.now();
  for await (const event of stylize(weights, request)) {
    if (event.type !== "done") continue;
    const shown = await resizeImage(photo, event.image.width, event.image.height);
    const name = `/tmp/look/${photoFile!.split(".")[0]}-${sizeArg}-${quality}-${tag}.png`;
    await writeFile(name, await encodeImage(event.image, { format: "png" }));
    const { losses } = event;
    console.log(
      JSON.stringify({
        tag,
        sOverC: losses.style / losses.content,
        diff: meanAbsDifference(event.image, shown),
        stroke: 100 * strokeScale(event.image, shown),
        grid: gridEnergy(event.image, 4),
        seconds: (Date.now() - started) / 1000,
        losses,
      }),
    );
  }
}
