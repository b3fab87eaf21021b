import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomic } from "../atomic-file.js";
import type { Checksum } from "./manifest.js";

/**
 * Downloads one file so that `dest` only ever holds a complete, verified copy: bytes go to
 * `dest + ".partial"`, an interrupted download resumes with an HTTP Range request, and only a file whose
 * size and checksum match is renamed (atomically) to `dest`.
 *
 * A file without a published checksum is verified by the caller instead: `verify` inspects the finished
 * partial file (and throws to refuse it) before the rename; the accepted file's sha256 is then recorded
 * in `dest + ".sha256"` (trust on first use), and later calls check `dest` against that record and
 * download it again when it no longer matches.
 */

export interface DownloadProgress {
  /** Bytes on disk so far, including a resumed partial file. */
  readonly receivedBytes: number;
  /** Expected size when known. */
  readonly totalBytes: number | undefined;
}

/**
 * How the download is verified: exactly one of a published checksum, or a caller's check of the finished
 * partial file for files that have none. The type allows no download with neither.
 */
export type Verification =
  | { readonly checksum: Checksum; readonly verify?: undefined }
  | {
      readonly checksum?: undefined;
      /** Resolves when the complete partial file is acceptable; throws (with the reason) to refuse it. */
      readonly verify: (partialFile: string) => Promise<void>;
    };

export type DownloadOptions = Verification & {
  readonly url: string;
  readonly dest: string;
  /** Expected size; checked before the checksum (or `verify`) and used for resuming. */
  readonly bytes?: number;
  /** Extra attempts after the first on network errors, 5xx/429 answers and short reads (default 4). */
  readonly retries?: number;
  /** First backoff delay; doubles each retry (default 1000 ms). */
  readonly retryDelayMs?: number;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
};

export interface DownloadResult {
  readonly dest: string;
  readonly bytes: number;
  /** True when `dest` already held a verified copy (checksum, or the recorded sha256) and nothing was fetched. */
  readonly skipped: boolean;
  readonly attempts: number;
}

export class DownloadError extends Error {
  override name = "DownloadError";
  /** The server was never reached (offline, DNS failure, connection refused): other files from it will fail too. */
  readonly unreachable: boolean;
  constructor(
    readonly url: string,
    message: string,
    /** Worth another attempt (network trouble) rather than a fault that will repeat. */
    readonly retryable: boolean,
    options?: ErrorOptions & { unreachable?: boolean },
  ) {
    super(message, options);
    this.unreachable = options?.unreachable ?? false;
  }
}

/** Connection failures that mean "cannot reach the server at all", in plain words. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ENOTFOUND: "its name could not be looked up (DNS)",
  EAI_AGAIN: "its name could not be looked up (DNS)",
  ECONNREFUSED: "the connection was refused",
  ENETUNREACH: "the network is unreachable",
  EHOSTUNREACH: "the host is unreachable",
  ENETDOWN: "the network is down",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out",
};

const MAX_RETRY_DELAY_MS = 30_000;

/** Where the sha256 of a file accepted by `verify` is recorded: `sha256sum` format, so `sha256sum -c` works. */
export function sidecarPath(dest: string): string {
  return `${dest}.sha256`;
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, signal } = options;
  const retries = options.retries ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const partial = `${dest}.partial`;
  // The types already demand one; this guards callers that bypassed them (casts, plain JavaScript).
  if ((options.checksum === undefined) === (options.verify === undefined)) {
    throw new DownloadError(url, `${url}: give exactly one of checksum and verify`, false);
  }
  const expected = options.checksum ?? (await recordedSha256(dest));

  if (expected && (await isVerified(dest, options.bytes, expected))) {
    return { dest, bytes: (await stat(dest)).size, skipped: true, attempts: 0 };
  }
  await mkdir(path.dirname(dest), { recursive: true });

  let lastError: DownloadError | undefined;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    signal?.throwIfAborted();
    if (attempt > 1) {
      await sleep(Math.min(retryDelayMs * 2 ** (attempt - 2), MAX_RETRY_DELAY_MS), undefined, { signal });
    }
    let resumedFrom = 0;
    try {
      resumedFrom = await fetchInto(partial, options);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      lastError = asDownloadError(url, error);
      // Unreachable at first contact means offline or a wrong address: retrying for minutes cannot help.
      // Once the server has answered, a refused reconnect is a blip worth the retries.
      if (!lastError.retryable || (lastError.unreachable && attempt === 1)) break;
      continue;
    }

    const size = (await stat(partial)).size;
    if (options.bytes !== undefined && size !== options.bytes) {
      await rm(partial, { force: true });
      lastError = new DownloadError(url, `${url}: got ${size} bytes, expected ${options.bytes}`, false);
      break;
    }
    const refusal = await checkPartial(partial, options);
    if (refusal !== undefined) {
      await rm(partial, { force: true });
      // Bytes appended to a stale partial file can be the culprit: try once more from scratch.
      lastError = new DownloadError(url, refusal, resumedFrom > 0);
      if (lastError.retryable) continue;
      break;
    }
    if (options.verify === undefined) {
      await rename(partial, dest);
    } else {
      const sha256 = await hashFile(partial, "sha256");
      await rename(partial, dest);
      // After the rename: a crash in between leaves dest without a matching record, so it is fetched again.
      await writeSidecar(dest, sha256);
    }
    return { dest, bytes: size, skipped: false, attempts: attempt };
  }
  const why = lastError?.message ?? "unknown error";
  const kept = (await exists(partial)) ? ` The partial file ${partial} is kept; run again to resume.` : "";
  throw new DownloadError(url, `could not download ${path.basename(dest)}: ${why}.${kept}`, false, {
    cause: lastError,
    unreachable: lastError?.unreachable ?? false,
  });
}

/**
 * One HTTP request, appending to the partial file when the server honours the Range request and
 * starting over otherwise. Resolves once the body is on disk (possibly short: the caller checks);
 * returns the offset it resumed from.
 */
async function fetchInto(partial: string, options: DownloadOptions): Promise<number> {
  const { url, signal, onProgress } = options;
  let offset = (await stat(partial).catch(() => undefined))?.size ?? 0;
  if (options.bytes !== undefined && offset > options.bytes) {
    await rm(partial, { force: true });
    offset = 0;
  }
  if (options.bytes !== undefined && offset === options.bytes) return offset; // complete; verify it

  const response = await fetch(url, {
    headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    ...(signal ? { signal } : {}),
  });
  if (response.status === 416 && offset > 0) {
    // The server cannot serve from our offset: the partial file is not a prefix of this file.
    await response.body?.cancel();
    await rm(partial, { force: true });
    throw new DownloadError(url, `${url}: server rejected resuming at byte ${offset}`, true);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
    throw new DownloadError(url, `${url} answered HTTP ${response.status} ${response.statusText}`, retryable);
  }

  const resumed = response.status === 206;
  if (resumed && contentRangeStart(response) !== offset) {
    await response.body.cancel();
    await rm(partial, { force: true });
    throw new DownloadError(url, `${url}: server sent a different byte range than asked for`, true);
  }
  if (!resumed) offset = 0;
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  const totalBytes = options.bytes ?? (Number.isFinite(length) ? offset + length : undefined);

  let receivedBytes = offset;
  onProgress?.({ receivedBytes, totalBytes });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      receivedBytes += chunk.length;
      onProgress?.({ receivedBytes, totalBytes });
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
    counter,
    // flush: fsync'd before close, so the rename into place never exposes bytes still in the page cache.
    createWriteStream(partial, { flags: resumed ? "a" : "w", flush: true }),
    ...(signal ? [{ signal }] : []),
  );
  if (totalBytes !== undefined && receivedBytes < totalBytes) {
    throw new DownloadError(
      url,
      `${url}: connection ended after ${receivedBytes} of ${totalBytes} bytes`,
      true,
    );
  }
  return resumed ? offset : 0;
}

function contentRangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

function asDownloadError(url: string, error: unknown): DownloadError {
  if (error instanceof DownloadError) return error;
  const unreachable = unreachableReason(error);
  if (unreachable) {
    const host = new URL(url).host;
    return new DownloadError(url, `cannot reach ${host}: ${unreachable}`, true, {
      cause: error,
      unreachable: true,
    });
  }
  // Other fetch and stream failures (reset, "terminated") are worth retrying.
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  const message = `${url}: ${(error as Error).message}${cause ? ` (${cause})` : ""}`;
  return new DownloadError(url, message, true, { cause: error });
}

/** Why the server could not be reached at all, from fetch's error or its causes; undefined otherwise. */
function unreachableReason(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string" && UNREACHABLE[code]) return UNREACHABLE[code];
  // Happy eyeballs: an AggregateError holding one failure per address tried.
  for (const inner of Array.isArray(errors) ? errors : []) {
    const reason = unreachableReason(inner, depth + 1);
    if (reason) return reason;
  }
  return unreachableReason(cause, depth + 1);
}

/** Why the complete partial file is refused, or undefined when it passes the checksum or `verify`. */
async function checkPartial(partial: string, options: DownloadOptions): Promise<string | undefined> {
  const { url } = options;
  if (options.verify === undefined) {
    const { algorithm, hex } = options.checksum;
    const actual = await hashFile(partial, algorithm);
    if (actual === hex) return undefined;
    return `checksum mismatch for ${url} (${algorithm} ${actual}, expected ${hex})`;
  }
  try {
    await options.verify(partial);
    return undefined;
  } catch (error) {
    return `${url} failed verification: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The sha256 recorded for `dest` by an earlier verified download, if any (and well-formed). */
async function recordedSha256(dest: string): Promise<Checksum | undefined> {
  const text = await readFile(sidecarPath(dest), "utf8").catch(() => undefined);
  const hex = /^([0-9a-f]{64})\b/.exec(text ?? "")?.[1];
  return hex ? { algorithm: "sha256", hex } : undefined;
}

/** Writes the sidecar atomically, so a crash never leaves a half-written record. */
async function writeSidecar(dest: string, sha256: string): Promise<void> {
  await writeFileAtomic(sidecarPath(dest), `${sha256}  ${path.basename(dest)}\n`);
}

async function isVerified(file: string, bytes: number | undefined, checksum: Checksum): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || (bytes !== undefined && info.size !== bytes)) return false;
  return (await hashFile(file, checksum.algorithm)) === checksum.hex;
}

export async function hashFile(file: string, algorithm: Checksum["algorithm"]): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
