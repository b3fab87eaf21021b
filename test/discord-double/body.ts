/**
 * Request bodies: JSON, or multipart/form-data with `payload_json` and `files[n]` parts
 * (https://discord.com/developers/docs/reference#uploading-files). Multipart is parsed by
 * undici's spec-compliant FormData parser that ships with Node (Request#formData).
 */
import type { IncomingMessage } from "node:http";
import { type ApiReply, DiscordError, errorReply } from "./errors.js";
import type { RecordedFile } from "./messages.js";

/** Upper bound on a buffered request body; Discord rejects far smaller uploads anyway. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ParsedBody {
  json?: unknown;
  files: RecordedFile[];
}

export function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function parseBody(
  raw: Buffer,
  contentType: string | undefined,
): Promise<ParsedBody | ApiReply> {
  if (raw.length === 0) return { files: [] };
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) return parseMultipart(raw, contentType!);
  try {
    return { json: JSON.parse(raw.toString("utf8")), files: [] };
  } catch {
    return errorReply(DiscordError.InvalidJson);
  }
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody | ApiReply> {
  let form: FormData;
  try {
    form = await new Request("http://double.invalid/", {
      method: "POST",
      headers: { "content-type": contentType },
      body: raw,
    }).formData();
  } catch {
    return errorReply(DiscordError.InvalidFormBody, {});
  }
  const files: RecordedFile[] = [];
  const fields: Record<string, unknown> = {};
  let json: unknown;
  for (const [field, value] of form.entries()) {
    if (typeof value === "string") {
      if (field === "payload_json") {
        try {
          json = JSON.parse(value);
        } catch {
          return errorReply(DiscordError.InvalidJson);
        }
      } else {
        fields[field] = value;
      }
      continue;
    }
    files.push({
      field,
      name: value.name,
      contentType: value.type || "application/octet-stream",
      data: Buffer.from(await value.arrayBuffer()),
    });
  }
  // Without payload_json, Discord reads plain form fields as the JSON params.
  return { json: json ?? (Object.keys(fields).length ? fields : undefined), files };
}
