import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PresetCatalog } from "../src/bot/presets.js";
import {
  ManifestError,
  type ModelManifest,
  parseManifest,
  readManifests,
  selectFiles,
} from "../src/models/manifest.js";
import { defaultModelsDir, manifestsDir, repoRoot, vgg19WeightsFile } from "../src/models/paths.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "stylize-manifest-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string, overrides: object = {}) => ({
  name,
  url: `https://example.org/${name}`,
  bytes: 10,
  checksum: { algorithm: "sha256", hex: "a".repeat(64) },
  dest: `things/${name}`,
  licence: "Public domain",
  source: "example.org",
  ...overrides,
});
const manifest = (name: string, files: object[]) => ({ name, description: "test", files });

describe("models/vgg19.json", () => {
  it("describes the Keras VGG19 notop weights with the facts Keras itself uses", async () => {
    const vgg = (await readManifests(manifestsDir())).find((m) => m.name === "vgg19");
    const entry = vgg!.files.find((f) => f.name === "vgg19-notop")!;
    expect(entry.url).toBe(
      "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    );
    expect(entry.bytes).toBe(80_134_624);
    expect(entry.checksum).toEqual({ algorithm: "md5", hex: "253f8cb515780f3b799900260a226db6" });
    expect(entry.notes?.length).toBeGreaterThan(0);
  });
});

describe("models/paintings.json", () => {
  it("parses as a model manifest and as the bot's presets, every file checked as an image", async () => {
    const paintings = (await readManifests(manifestsDir())).find((m) => m.name === "paintings");
    expect(paintings?.files).toHaveLength(8);
    for (const entry of paintings!.files) {
      expect(entry).toMatchObject({ verify: "image", dest: `paintings/${entry.name}.jpg` });
      expect(entry.checksum).toBeUndefined();
      expect(entry.url).toMatch(/^https:\/\/upload\.wikimedia\.org\/wikipedia\/commons\/thumb\//);
    }
    const catalog = await PresetCatalog.load(path.join(manifestsDir(), "paintings.json"), "/srv/models");
    expect(catalog.get("starry-night")).toMatchObject({
      title: "The Starry Night",
      artist: "Vincent van Gogh",
      file: path.join("/srv/models", "paintings", "starry-night.jpg"),
    });
  });
});

describe("manifest schema", () => {
  it.each([
    ["a dest climbing out of the models dir", { dest: "../escape.bin" }, /dest/],
    ["an absolute dest", { dest: "/etc/passwd" }, /dest/],
    ["an md5 of the wrong length", { checksum: { algorithm: "md5", hex: "abc" } }, /wrong length/],
    ["uppercase hex", { checksum: { algorithm: "sha256", hex: "A".repeat(64) } }, /lowercase/],
    ["a non-http url", { url: "ftp://example.org/x" }, /url/],
    ["a zero size", { bytes: 0 }, /bytes/],
    ["a file with neither checksum nor verify", { checksum: undefined }, /never taken unverified/],
    ["a checksum without its size", { bytes: undefined }, /needs its size/],
    ["a checksum together with verify", { verify: "image" }, /drop "verify"/],
    ["an unknown verify method", { checksum: undefined, verify: "pdf" }, /verify/],
  ])("rejects %s", (_label, overrides, message) => {
    const call = () => parseManifest(manifest("m", [file("x", overrides)]), "m.json");
    expect(call).toThrow(ManifestError);
    expect(call).toThrow(message);
  });

  it('accepts a file without checksum or size when it declares "verify": "image"', () => {
    const entry = file("x", { checksum: undefined, bytes: undefined, verify: "image" });
    const parsed = parseManifest(manifest("m", [entry]), "m.json");
    expect(parsed.files[0]).toMatchObject({ name: "x", verify: "image" });
    expect(parsed.files[0]!.checksum).toBeUndefined();
  });

  it("applies the rule to schemas extended from it, such as the bot's presets", async () => {
    const presets = path.join(dir, "presets.json");
    const painting = { title: "T", artist: "A", year: "1900" };
    await writeFile(
      presets,
      JSON.stringify(manifest("p", [file("x", { ...painting, checksum: undefined })])),
    );
    await expect(PresetCatalog.load(presets, dir)).rejects.toThrow(/never taken unverified/);
  });

  it("reads every manifest in a folder and refuses duplicate file names across them", async () => {
    const folder = path.join(dir, "dupes");
    await mkdir(folder);
    await writeFile(path.join(folder, "a.json"), JSON.stringify(manifest("a", [file("one")])));
    await writeFile(path.join(folder, "b.json"), JSON.stringify(manifest("b", [file("two")])));
    expect((await readManifests(folder)).map((m) => m.name)).toEqual(["a", "b"]);
    await writeFile(path.join(folder, "c.json"), JSON.stringify(manifest("c", [file("one")])));
    await expect(readManifests(folder)).rejects.toThrow(/"one" appears twice/);
  });

  it("names the file when a manifest is not JSON", async () => {
    const folder = path.join(dir, "broken");
    await mkdir(folder);
    await writeFile(path.join(folder, "bad.json"), "{");
    await expect(readManifests(folder)).rejects.toThrow(/cannot read model manifest .*bad\.json/);
  });
});

describe("selectFiles", () => {
  const manifests = [
    manifest("weights", [file("vgg")]),
    manifest("paintings", [file("monet"), file("hokusai")]),
  ].map((m) => parseManifest(m, "test")) as ModelManifest[];
  const names = (only?: string[]) => selectFiles(manifests, only).map((f) => f.name);

  it("selects everything by default, or by manifest or file name", () => {
    expect(names()).toEqual(["vgg", "monet", "hokusai"]);
    expect(names(["paintings"])).toEqual(["monet", "hokusai"]);
    expect(names(["hokusai", "vgg"])).toEqual(["vgg", "hokusai"]);
  });

  it("refuses unknown names instead of silently doing nothing", () => {
    expect(() => names(["vgg20"])).toThrow(
      /unknown model name\(s\): vgg20; known: hokusai, monet, paintings, vgg, weights/,
    );
  });
});

describe("where models live", () => {
  it("defaults to models/weights in the repo", () => {
    expect(defaultModelsDir()).toBe(path.join(repoRoot(), "models", "weights"));
  });

  it("puts the VGG19 weights where the manifest says the download goes", async () => {
    const vgg = JSON.parse(await readFile(path.join(manifestsDir(), "vgg19.json"), "utf8"));
    expect(vgg19WeightsFile("/srv/models")).toBe(path.join("/srv/models", vgg.files[0].dest));
  });
});
