import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseButtonId } from "../src/bot/custom-ids.js";
import { MAX_CHOICES, type Preset, PresetCatalog, PresetUnavailableError } from "../src/bot/presets.js";
import { PRESETS, writeTestModels } from "./bot-helpers.js";

let dir: string;
let catalog: PresetCatalog;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-presets-"));
  const { manifest } = await writeTestModels(dir);
  catalog = await PresetCatalog.load(manifest, dir);
  manifestFile = manifest;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let manifestFile: string;

function manyPresets(count: number): PresetCatalog {
  const presets: Preset[] = Array.from({ length: count }, (_, i) => ({
    id: `painting-${i}`,
    title: `Painting ${i}`,
    artist: i % 2 ? "Claude Monet" : "Vincent van Gogh",
    year: "1889",
    sourceUrl: "https://example.org",
    licence: "Public domain",
    // Installed (the file exists), so search offers them.
    file: manifestFile,
  }));
  return new PresetCatalog(presets);
}

describe("PresetCatalog", () => {
  it("loads the manifest's painting fields and decodes the painting", async () => {
    expect(catalog.presets.map((p) => p.id)).toEqual(PRESETS.map((p) => p.name));
    const preset = catalog.get("starry-test")!;
    expect(preset).toMatchObject({ title: "Starry Test", artist: "Test Painter", year: "1889" });
    const image = await catalog.image(preset);
    expect([image.width, image.height]).toEqual([96, 64]);
    expect((await catalog.thumbnail(preset)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it("searches id, title and artist, every word, prefix matches first, never more than 25", () => {
    expect(catalog.search("wave").map((p) => p.id)).toEqual(["wave-test"]);
    expect(catalog.search("other painter").map((p) => p.id)).toEqual(["wave-test"]);
    expect(catalog.search("nothing like this")).toEqual([]);
    const many = manyPresets(60);
    expect(many.search("")).toHaveLength(MAX_CHOICES);
    expect(many.search("monet").every((p) => p.artist === "Claude Monet")).toBe(true);
    expect(many.search("painting 4")[0]!.id).toBe("painting-4");
  });

  it("resolves an id, a typed title, or an unambiguous part of one", () => {
    expect(catalog.resolve("wave-test")?.id).toBe("wave-test");
    expect(catalog.resolve("  Starry Test ")?.id).toBe("starry-test");
    expect(catalog.resolve("other painter")?.id).toBe("wave-test");
    expect(catalog.resolve("test")).toBeUndefined(); // matches both
    expect(catalog.resolve("nope")).toBeUndefined();
  });

  it("explains a painting that was never downloaded, and does not offer it", async () => {
    const missing = { ...manyPresets(1).presets[0]!, file: path.join(dir, "never-downloaded.jpg") };
    const presets = new PresetCatalog([missing]);
    expect(presets.isInstalled(missing)).toBe(false);
    expect(presets.search("")).toEqual([]);
    await expect(presets.image(missing)).rejects.toThrow(PresetUnavailableError);
    await expect(presets.imageFile(missing)).rejects.toThrow(/npm run models/);
  });

  it("treats a missing manifest as no presets, and refuses one whose files lack the painting fields", async () => {
    expect((await PresetCatalog.load(path.join(dir, "nope.json"), dir)).presets).toEqual([]);
    const weightsOnly = path.join(dir, "weights-only.json");
    await writeFile(weightsOnly, await readFile(path.resolve("models/vgg19.json")));
    await expect(PresetCatalog.load(weightsOnly, dir)).rejects.toThrow(/title/);
  });
});

describe("button ids", () => {
  it("round-trips job and page ids and rejects foreign ones", () => {
    expect(parseButtonId("cancel:abc_DEF-1")).toEqual({ kind: "job", action: "cancel", jobId: "abc_DEF-1" });
    expect(parseButtonId("hd:x")).toEqual({ kind: "job", action: "hd", jobId: "x" });
    expect(parseButtonId("styles:3")).toEqual({ kind: "styles", page: 3 });
    for (const bad of ["styles:-1", "styles:1:current", "explode:abc", "cancel:", "cancel:a b", "nocolon"]) {
      expect(parseButtonId(bad)).toBeUndefined();
    }
  });
});
