import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runModelsCommand } from "../scripts/download-models.js";
import { loadVggWeights, WeightsUnavailableError } from "../src/engine/weights/index.js";
import {
  type DownloadOptions,
  type DownloadProgress,
  downloadFile,
  sidecarPath,
} from "../src/models/download.js";
import type { Checksum } from "../src/models/manifest.js";
import { tinyVggWeights, writeKerasH5 } from "./fixtures/tiny-vgg.js";
import {
  type Handler,
  serveBytes,
  serveThenDrop,
  startServer,
  type TestServer,
} from "./helpers/http-server.js";

const body = randomBytes(256 * 1024);
const md5 = (data: Buffer): Checksum => ({
  algorithm: "md5",
  hex: createHash("md5").update(data).digest("hex"),
});
const sha256 = (data: Buffer): Checksum => ({
  algorithm: "sha256",
  hex: createHash("sha256").update(data).digest("hex"),
});

let dir: string;
let dest: string;
let server: TestServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "stylize-dl-test-"));
  dest = path.join(dir, "sub", "file.bin");
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Compares digests: vitest's deep equality over a 256 KiB buffer costs most of a second. */
async function expectDestToHold(expected: Buffer): Promise<void> {
  expect(md5(await readFile(dest)).hex).toBe(md5(expected).hex);
}

async function serve(handler: Handler): Promise<string> {
  server = await startServer(handler);
  return server.url;
}

const fast = { retries: 3, retryDelayMs: 5 };

describe("downloadFile", () => {
  it("downloads, reports progress up to the total and leaves only the verified file", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body));
    const events: DownloadProgress[] = [];
    const result = await downloadFile({
      url,
      dest,
      bytes: body.length,
      checksum: sha256(body),
      onProgress: (p) => events.push(p),
      ...fast,
    });
    expect(result).toEqual({ dest, bytes: body.length, skipped: false, attempts: 1 });
    await expectDestToHold(body);
    expect(existsSync(`${dest}.partial`)).toBe(false);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toEqual({ receivedBytes: body.length, totalBytes: body.length });
    const received = events.map((e) => e.receivedBytes);
    expect(received).toEqual([...received].sort((a, b) => a - b));
  });

  it("learns the total from Content-Length when the manifest gives no size", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body));
    const events: DownloadProgress[] = [];
    await downloadFile({ url, dest, checksum: md5(body), onProgress: (p) => events.push(p), ...fast });
    expect(events.at(-1)).toEqual({ receivedBytes: body.length, totalBytes: body.length });
  });

  it("resumes with a Range request after the connection drops", async () => {
    const url = await serve((req, res, i) =>
      i === 0 ? serveThenDrop(res, body, 100_000) : serveBytes(req, res, body),
    );
    const events: DownloadProgress[] = [];
    const result = await downloadFile({
      url,
      dest,
      bytes: body.length,
      checksum: md5(body),
      onProgress: (p) => events.push(p),
      ...fast,
    });
    expect(result.attempts).toBe(2);
    expect(server!.requests[0]!.range).toBeUndefined();
    const resumeAt = Number(/^bytes=(\d+)-$/.exec(server!.requests[1]!.range ?? "")?.[1]);
    expect(resumeAt).toBeGreaterThan(0);
    expect(resumeAt).toBeLessThanOrEqual(100_000);
    // The second attempt's progress starts where the first stopped, not at zero.
    expect(events.some((e) => e.receivedBytes === resumeAt)).toBe(true);
    await expectDestToHold(body);
  });

  it("treats a body that ends early without an error as a short read and resumes", async () => {
    const url = await serve((req, res, i) => {
      if (i > 0) return serveBytes(req, res, body);
      res.writeHead(200); // chunked, no Content-Length: only the manifest knows the size
      res.end(body.subarray(0, 70_000));
    });
    const result = await downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast });
    expect(server!.requests.map((h) => h.range)).toEqual([undefined, "bytes=70000-"]);
    expect(result.attempts).toBe(2);
    await expectDestToHold(body);
  });

  it("starts over when the server cannot serve the partial file's offset (416)", async () => {
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(`${dest}.partial`, randomBytes(body.length + 10)); // stale and longer than the file
    const url = await serve((req, res) => {
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? "")?.[1] ?? 0);
      if (start >= body.length) return res.writeHead(416).end();
      serveBytes(req, res, body);
    });
    await downloadFile({ url, dest, checksum: md5(body), ...fast });
    expect(server!.requests.map((h) => h.range)).toEqual([`bytes=${body.length + 10}-`, undefined]);
    await expectDestToHold(body);
  });

  it("starts over cleanly when the server ignores the Range request", async () => {
    const url = await serve((_req, res, i) => {
      if (i === 0) return serveThenDrop(res, body, 50_000);
      res.writeHead(200, { "content-length": body.length });
      res.end(body);
    });
    await downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast });
    expect(server!.requests[1]!.range).toMatch(/^bytes=\d+-$/);
    await expectDestToHold(body);
  });

  it("retries after a 500", async () => {
    const url = await serve((req, res, i) => {
      if (i === 0) return res.writeHead(500).end("boom");
      serveBytes(req, res, body);
    });
    const result = await downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast });
    expect(result.attempts).toBe(2);
    await expectDestToHold(body);
  });

  it("gives up after the retries with a clear error and no file at dest", async () => {
    const url = await serve((_req, res) => res.writeHead(503).end());
    await expect(
      downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast }),
    ).rejects.toThrow(/could not download file\.bin: .* answered HTTP 503/);
    expect(server!.requests).toHaveLength(4);
    expect(existsSync(dest)).toBe(false);
  });

  it("does not retry a 404", async () => {
    const url = await serve((_req, res) => res.writeHead(404).end());
    await expect(downloadFile({ url, dest, checksum: md5(body), ...fast })).rejects.toThrow(/HTTP 404/);
    expect(server!.requests).toHaveLength(1);
  });

  it("rejects a checksum mismatch and leaves neither the file nor the partial", async () => {
    const other = randomBytes(body.length);
    const url = await serve((req, res) => serveBytes(req, res, other));
    await expect(
      downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast }),
    ).rejects.toThrow(new RegExp(`checksum mismatch .*md5 ${md5(other).hex}, expected ${md5(body).hex}`));
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);
  });

  it("rejects a file of the wrong size", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body.subarray(0, 1000)));
    await expect(downloadFile({ url, dest, bytes: 999, checksum: md5(body), ...fast })).rejects.toThrow(
      /got 1000 bytes, expected 999/,
    );
    expect(existsSync(dest)).toBe(false);
  });

  it("retries from scratch when a stale partial file spoils the checksum", async () => {
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(`${dest}.partial`, randomBytes(1000));
    const url = await serve((req, res) => serveBytes(req, res, body));
    const result = await downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast });
    expect(server!.requests.map((h) => h.range)).toEqual(["bytes=1000-", undefined]);
    expect(result.attempts).toBe(2);
    await expectDestToHold(body);
  });

  it("skips a file already present and verified, without any request", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body));
    await downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast });
    const before = (await stat(dest)).mtimeMs;
    const again = await downloadFile({ url, dest, bytes: body.length, checksum: md5(body), ...fast });
    expect(again.skipped).toBe(true);
    expect(server!.requests).toHaveLength(1);
    expect((await stat(dest)).mtimeMs).toBe(before);
  });

  it("replaces a corrupt file at dest", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body));
    await downloadFile({ url, dest, checksum: md5(body), ...fast });
    await writeFile(dest, "corrupted");
    const result = await downloadFile({ url, dest, checksum: md5(body), ...fast });
    expect(result.skipped).toBe(false);
    await expectDestToHold(body);
  });

  it("stops when aborted, keeping the partial for a later resume", async () => {
    const controller = new AbortController();
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, 10_000), () =>
        setTimeout(() => controller.abort(new Error("user cancelled")), 20),
      );
    });
    await expect(
      downloadFile({
        url,
        dest,
        bytes: body.length,
        checksum: md5(body),
        signal: controller.signal,
        ...fast,
      }),
    ).rejects.toThrow(/user cancelled/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(true);
    expect(server!.requests).toHaveLength(1);
  });

  it("never leaves loadable weights at dest when the download fails part-way", async () => {
    const h5 = await writeKerasH5(tinyVggWeights({ layers: 2 }), path.join(dir, "source.h5"));
    const weights = await readFile(h5);
    const url = await serve((_req, res) => serveThenDrop(res, weights, weights.length - 100));
    await expect(
      downloadFile({ url, dest, bytes: weights.length, checksum: md5(weights), retries: 1, retryDelayMs: 5 }),
    ).rejects.toThrow(
      /could not download file\.bin: .*(terminated|connection ended).*\. The partial file .* is kept; run again to resume/,
    );
    const error = await loadVggWeights(dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect((error as Error).message).toMatch(/not found at .*Run `npm run models`/);
  });
});

describe("npm run models", () => {
  it("fetches each manifest file, carries on past a failure, then exits 1 with a summary", async () => {
    const url = await serve((req, res) =>
      req.url === "/good.bin" ? serveBytes(req, res, body) : res.writeHead(404).end(),
    );
    const base = url.replace("/file.bin", "");
    const entry = (name: string) => ({
      name,
      url: `${base}/${name}.bin`,
      bytes: body.length,
      checksum: md5(body),
      dest: `test/${name}.bin`,
      licence: "test data",
      source: "local test server",
    });
    const manifests = path.join(dir, "manifests");
    await mkdir(manifests);
    const manifest = { name: "test", description: "test files", files: [entry("missing"), entry("good")] };
    await writeFile(path.join(manifests, "test.json"), JSON.stringify(manifest));
    const models = path.join(dir, "models");
    vi.stubEnv("STYLIZE_MODELS_DIR", models);
    const out: string[] = [];
    const capture = (...args: unknown[]) => void out.push(args.join(" "));
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);
    try {
      const argv = ["node", "download-models.js", "--manifests", manifests];
      expect(await runModelsCommand(argv)).toBe(1);
      expect(md5(await readFile(path.join(models, "test/good.bin"))).hex).toBe(md5(body).hex);
      expect(existsSync(path.join(models, "test/missing.bin"))).toBe(false);
      const text = out.join("\n");
      expect(text).toMatch(/✖ missing: could not download missing\.bin: .*HTTP 404/);
      expect(text).toMatch(/✔ good: downloaded \(0\.3 MB\)/);
      expect(text).toMatch(/1 of 2 model file\(s\) could not be downloaded.*run `npm run models` again/);

      out.length = 0;
      expect(await runModelsCommand([...argv, "--only", "good"])).toBe(0);
      expect(out.join("\n")).toMatch(
        /✔ good: already present, checksum verified[\s\S]*All 1 model file\(s\) are in place/,
      );
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
    }
  });
});

describe('files without a checksum ("verify")', () => {
  it("hands the complete partial file to verify before the rename, then records its sha256", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body));
    const seen: string[] = [];
    const verify = async (file: string) => {
      seen.push(file);
      expect(existsSync(dest)).toBe(false);
      expect(md5(await readFile(file)).hex).toBe(md5(body).hex);
    };
    const result = await downloadFile({ url, dest, verify, ...fast });
    expect(result).toMatchObject({ skipped: false, attempts: 1, bytes: body.length });
    expect(seen).toEqual([`${dest}.partial`]);
    await expectDestToHold(body);
    expect(await readFile(sidecarPath(dest), "utf8")).toBe(`${sha256(body).hex}  file.bin\n`);
    expect(existsSync(`${dest}.partial`)).toBe(false);

    const again = await downloadFile({ url, dest, verify, ...fast });
    expect(again.skipped).toBe(true);
    expect(server!.requests).toHaveLength(1);
    expect(seen).toHaveLength(1);
  });

  it("refuses what verify refuses and keeps nothing, without retrying a fresh download", async () => {
    const url = await serve((req, res) => serveBytes(req, res, body));
    const verify = async () => {
      throw new Error("not a painting");
    };
    await expect(downloadFile({ url, dest, verify, ...fast })).rejects.toThrow(
      /could not download file\.bin: .* failed verification: not a painting/,
    );
    expect(server!.requests).toHaveLength(1);
    for (const file of [dest, `${dest}.partial`, sidecarPath(dest)]) expect(existsSync(file)).toBe(false);
  });

  it("refuses a call with neither a checksum nor verify", async () => {
    const options = { url: "http://127.0.0.1:9/x", dest } as unknown as DownloadOptions;
    await expect(downloadFile(options)).rejects.toThrow(/exactly one of checksum and verify/);
  });
});

describe('npm run models with "verify": "image"', () => {
  const painting = () =>
    sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 120, b: 40 } } })
      .jpeg()
      .toBuffer();

  /** Serves `files()` by URL path, writes a one-manifest folder and runs the command with output captured. */
  async function setUp(files: () => Record<string, Buffer>) {
    const url = await serve((req, res) => {
      const data = files()[req.url ?? ""];
      if (data) serveBytes(req, res, data);
      else res.writeHead(404).end();
    });
    const base = url.replace("/file.bin", "");
    const manifests = path.join(dir, "manifests");
    await mkdir(manifests);
    const entry = (name: string, extra: object) => ({
      name,
      url: `${base}/${name}`,
      dest: `paintings/${name}.jpg`,
      licence: "test data",
      source: "local test server",
      ...extra,
    });
    const weights = {
      name: "vgg19",
      description: "weights",
      files: [entry("weights", { bytes: body.length, checksum: md5(body) })],
    };
    const paintings = {
      name: "paintings",
      description: "paintings",
      files: [entry("wave", { verify: "image" })],
    };
    await writeFile(path.join(manifests, "paintings.json"), JSON.stringify(paintings));
    await writeFile(path.join(manifests, "vgg19.json"), JSON.stringify(weights));
    const models = path.join(dir, "models");
    vi.stubEnv("STYLIZE_MODELS_DIR", models);
    const out: string[] = [];
    const capture = (...args: unknown[]) => void out.push(args.join(" "));
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);
    const run = async (...extra: string[]) => {
      out.length = 0;
      const code = await runModelsCommand(["node", "download-models.js", "--manifests", manifests, ...extra]);
      return { code, text: out.join("\n") };
    };
    return { run, dest: path.join(models, "paintings", "wave.jpg"), requests: () => server!.requests.length };
  }

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("downloads an image, records its sha256, skips it next time and fetches it again when corrupted", async () => {
    const jpeg = await painting();
    const { run, dest: wave, requests } = await setUp(() => ({ "/wave": jpeg, "/weights": body }));

    const first = await run();
    expect(first.code).toBe(0);
    // The engine's weights come first even though paintings.json sorts before vgg19.json.
    expect(first.text).toMatch(
      /… weights \(0\.3 MB\)[\s\S]*… wave \(size unknown\)[\s\S]*✔ weights[\s\S]*✔ wave/,
    );
    expect(first.text).toMatch(
      /✔ wave: downloaded \(0\.0 MB\), checked as an image, sha256 recorded in .*wave\.jpg\.sha256/,
    );
    expect(md5(await readFile(wave)).hex).toBe(md5(jpeg).hex);
    expect(await readFile(`${wave}.sha256`, "utf8")).toBe(`${sha256(jpeg).hex}  wave.jpg\n`);
    expect(existsSync(`${wave}.partial`)).toBe(false);

    const second = await run("--only", "wave");
    expect(second.text).toMatch(
      /✔ wave: already present, matches the sha256 recorded in .*wave\.jpg\.sha256/,
    );
    expect(requests()).toBe(2);

    await writeFile(wave, Buffer.concat([jpeg.subarray(0, 100), Buffer.from("bit rot")]));
    const third = await run("--only", "wave");
    expect(third.code).toBe(0);
    expect(third.text).toMatch(/✔ wave: downloaded/);
    expect(requests()).toBe(3);
    expect(md5(await readFile(wave)).hex).toBe(md5(jpeg).hex);
    expect(await readFile(`${wave}.sha256`, "utf8")).toBe(`${sha256(jpeg).hex}  wave.jpg\n`);
  });

  it("refuses a download that is not an image and leaves nothing at dest", async () => {
    const html = Buffer.from("<!doctype html><title>Error</title><p>Wikimedia is down</p>");
    const { run, dest: wave } = await setUp(() => ({ "/wave": html, "/weights": body }));
    const result = await run("--only", "wave");
    expect(result.code).toBe(1);
    expect(result.text).toMatch(
      /✖ wave: could not download wave\.jpg: .* failed verification: not a usable image \(not_an_image\)/,
    );
    for (const file of [wave, `${wave}.partial`, `${wave}.sha256`]) expect(existsSync(file)).toBe(false);
  });

  it("refuses a truncated image", async () => {
    const jpeg = await painting();
    const { run, dest: wave } = await setUp(() => ({ "/wave": jpeg.subarray(0, jpeg.length - 200) }));
    const result = await run("--only", "wave");
    expect(result.code).toBe(1);
    expect(result.text).toMatch(
      /✖ wave: .* failed verification: not a usable image \((corrupt|not_an_image)\)/,
    );
    expect(existsSync(wave)).toBe(false);
  });
});
