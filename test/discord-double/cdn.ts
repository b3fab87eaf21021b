/**
 * Attachment bytes behind signed, expiring URLs, like Discord's CDN
 * (`/attachments/{channel}/{id}/{filename}?ex=<hex expiry>&is=<hex issued>&hm=<hex hmac>&`).
 * Unsigned, tampered or expired URLs answer 404 "This content is no longer available.".
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIAttachment } from "discord.js";
import { contentTypeFor, sniffImage } from "./media.js";
import { snowflake } from "./snowflake.js";

export const DEFAULT_URL_LIFETIME_MS = 24 * 60 * 60 * 1000;

export interface HostedFile {
  id: string;
  filename: string;
  contentType?: string;
  data: Buffer;
  issuedAt: number;
  expiresAt: number;
  /** Path part of the URL, e.g. "/attachments/123/456/photo.png". */
  path: string;
  fetches: number;
}

export interface AttachmentInput {
  filename: string;
  contentType?: string;
  description?: string;
  title?: string;
  expiresInMs?: number;
  /** "attachments" for message attachments, "ephemeral-attachments" for uploads in command options. */
  kind?: "attachments" | "ephemeral-attachments";
}

export class Cdn {
  readonly files = new Map<string, HostedFile>();
  private readonly secret = randomBytes(32);

  constructor(private readonly origin: () => string) {}

  /** Stores bytes and returns a Discord attachment object whose url/proxy_url this CDN serves. */
  host(data: Buffer, channelId: string, input: AttachmentInput): APIAttachment {
    const id = snowflake();
    const filename = sanitizeFilename(input.filename);
    const kind = input.kind ?? "attachments";
    const issuedAt = Date.now();
    const file: HostedFile = {
      id,
      filename,
      contentType: contentTypeFor(filename, input.contentType, data),
      data,
      issuedAt,
      expiresAt: issuedAt + (input.expiresInMs ?? DEFAULT_URL_LIFETIME_MS),
      path: `/${kind}/${channelId}/${id}/${encodeURIComponent(filename)}`,
      fetches: 0,
    };
    this.files.set(id, file);
    const query = this.sign(file);
    const image = sniffImage(data);
    return {
      id,
      filename,
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(file.contentType ? { content_type: file.contentType } : {}),
      size: data.length,
      url: `${this.origin()}${file.path}?${query}`,
      proxy_url: `${this.origin()}/media${file.path}?${query}`,
      ...(image ? { width: image.width, height: image.height } : {}),
      ...(kind === "ephemeral-attachments" ? { ephemeral: true } : {}),
    } as APIAttachment;
  }

  /** Handles GET/HEAD for CDN paths; returns false when the path is not a CDN path. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? "/", "http://double");
    const path = url.pathname.replace(/^\/media/, "");
    const match = /^\/(?:ephemeral-)?attachments\/\d+\/(\d+)\/[^/]+$/.exec(path);
    if (!match) return false;
    const file = this.files.get(match[1]!);
    const valid =
      file !== undefined &&
      file.path === path &&
      Date.now() < file.expiresAt &&
      this.checkSignature(file, url.searchParams);
    if (!valid || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end(req.method === "HEAD" ? undefined : "This content is no longer available.");
      return true;
    }
    file.fetches++;
    res.writeHead(200, {
      "content-type": file.contentType ?? "application/octet-stream",
      "content-length": String(file.data.length),
      "cache-control": "public, max-age=31536000",
    });
    res.end(req.method === "HEAD" ? undefined : file.data);
    return true;
  }

  private sign(file: HostedFile): string {
    const ex = Math.ceil(file.expiresAt / 1000).toString(16);
    const is = Math.floor(file.issuedAt / 1000).toString(16);
    return `ex=${ex}&is=${is}&hm=${this.hmac(file.path, ex, is)}&`;
  }

  private hmac(path: string, ex: string, is: string): string {
    return createHmac("sha256", this.secret).update(`${path}|${ex}|${is}`).digest("hex");
  }

  private checkSignature(file: HostedFile, query: URLSearchParams): boolean {
    const ex = query.get("ex");
    const is = query.get("is");
    const hm = query.get("hm");
    if (!ex || !is || !hm || !/^[0-9a-f]{64}$/.test(hm)) return false;
    return timingSafeEqual(Buffer.from(hm, "hex"), Buffer.from(this.hmac(file.path, ex, is), "hex"));
  }
}

/** Discord stores attachment names with whitespace replaced by underscores; path characters cannot survive. */
export function sanitizeFilename(name: string): string {
  const cleaned = name.replace(/[\s/\\?#%]/g, "_");
  return cleaned.length > 0 ? cleaned : "unknown";
}
