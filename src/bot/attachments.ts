import type { Attachment } from "discord.js";
import { ACCEPTED_FORMATS_TEXT } from "../images/index.js";
import { UserError } from "./user-error.js";

/**
 * Fetching members' uploads. Discord's attachment URLs are signed and expire, so the photo is downloaded
 * as soon as the command arrives, and every failure becomes a message the member can act on.
 */

/** An upload that cannot be used; the message says what to do. */
export class AttachmentError extends UserError {
  constructor(message: string) {
    super("attachment", message);
  }
}

const DOWNLOAD_TIMEOUT_MS = 20_000;

/** Cheap checks on what Discord tells us about the file, before downloading anything. */
export function precheckAttachment(attachment: Attachment, maxBytes: number): string | undefined {
  if (attachment.size > maxBytes) return tooLarge(attachment.size, maxBytes);
  const type = attachment.contentType?.split(";")[0]?.trim();
  // Discord's type is a guess from the name; only refuse what is clearly not an image. The bytes decide.
  if (type && !type.startsWith("image/") && type !== "application/octet-stream") {
    return `“${attachment.name}” doesn't look like an image (${type}) — send a ${ACCEPTED_FORMATS_TEXT}.`;
  }
  return undefined;
}

export async function downloadAttachment(attachment: Attachment, maxBytes: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(attachment.url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch {
    throw new AttachmentError("I couldn't download your image from Discord — please try again in a moment.");
  }
  if (response.status === 403 || response.status === 404 || response.status === 410) {
    throw new AttachmentError(
      "The link to your image expired before I could fetch it — please send it again.",
    );
  }
  if (!response.ok) {
    throw new AttachmentError(
      `Discord didn't hand over your image (HTTP ${response.status}) — please try again in a moment.`,
    );
  }
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) throw new AttachmentError(tooLarge(declared, maxBytes));
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > maxBytes) throw new AttachmentError(tooLarge(bytes.length, maxBytes));
  return bytes;
}

function tooLarge(bytes: number, maxBytes: number): string {
  return (
    `That file is ${(bytes / 1024 / 1024).toFixed(1)} MB — the most I can take is ` +
    `${Math.round(maxBytes / 1024 / 1024)} MB. Send a smaller or more compressed version.`
  );
}
