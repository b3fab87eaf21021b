/** Just enough image sniffing to give attachments Discord's width/height and a content type. */

export interface ImageInfo {
  contentType: string;
  width: number;
  height: number;
}

export function sniffImage(data: Buffer): ImageInfo | undefined {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47 && data.toString("ascii", 12, 16) === "IHDR") {
    return { contentType: "image/png", width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if (data.length >= 10 && data.toString("ascii", 0, 4) === "GIF8") {
    return { contentType: "image/gif", width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
  }
  if (
    data.length >= 30 &&
    data.toString("ascii", 0, 4) === "RIFF" &&
    data.toString("ascii", 8, 12) === "WEBP"
  ) {
    return sniffWebp(data);
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) return sniffJpeg(data);
  return undefined;
}

function sniffJpeg(data: Buffer): ImageInfo | undefined {
  let i = 2;
  while (i + 9 < data.length) {
    if (data[i] !== 0xff) return undefined;
    const marker = data[i + 1]!;
    // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { contentType: "image/jpeg", height: data.readUInt16BE(i + 5), width: data.readUInt16BE(i + 7) };
    }
    i += 2 + data.readUInt16BE(i + 2);
  }
  return undefined;
}

function sniffWebp(data: Buffer): ImageInfo | undefined {
  const chunk = data.toString("ascii", 12, 16);
  if (chunk === "VP8 ") {
    return {
      contentType: "image/webp",
      width: data.readUInt16LE(26) & 0x3fff,
      height: data.readUInt16LE(28) & 0x3fff,
    };
  }
  if (chunk === "VP8L") {
    const bits = data.readUInt32LE(21);
    return { contentType: "image/webp", width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    return {
      contentType: "image/webp",
      width: data.readUIntLE(24, 3) + 1,
      height: data.readUIntLE(27, 3) + 1,
    };
  }
  return undefined;
}

const BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain; charset=utf-8",
  json: "application/json; charset=utf-8",
};

export function contentTypeFor(
  filename: string,
  declared: string | undefined,
  data: Buffer,
): string | undefined {
  const sniffed = sniffImage(data)?.contentType;
  if (sniffed) return sniffed;
  const ext = filename.split(".").pop()?.toLowerCase() ?? "";
  return BY_EXTENSION[ext] ?? (declared && declared !== "application/octet-stream" ? declared : undefined);
}
