import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runModelsCommand } from "../scripts/download-models.js";
import { type DownloadProgress, downloadFile } from "../src/engine/weights/download.js";
import { loadVggWeights, WeightsUnavailableError } from "../src/engine/weights/index.js";
import type { Checksum } from "../src/engine/weights/manifest.js";
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
