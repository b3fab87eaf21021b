import { open } from "node:fs/promises";

/**
 * A pre-flight check of an HDF5 file's superblock. h5wasm answers a non-HDF5 or truncated file with a
 * bare "name not defined" error and dumps the HDF5 diagnostic stack on stderr, so the two commonest
 * problems (wrong file, cut-off download) are caught here first with a readable message.
 * Layout: HDF5 File Format Specification, section "Superblock" (versions 0–3).
 */

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Returns undefined when the file looks whole, else a sentence saying what is wrong. */
export async function hdf5HeaderProblem(file: string): Promise<string | undefined> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    // The superblock sits at 0 or, after a user block, at 512, 1024, 2048, …
    for (let base = 0; base + SIGNATURE.length <= size; base = base === 0 ? 512 : base * 2) {
      const header = Buffer.alloc(64);
      const { bytesRead } = await handle.read(header, 0, header.length, base);
      if (!header.subarray(0, 8).equals(SIGNATURE)) continue;
      const storedEof = endOfFileAddress(header.subarray(0, bytesRead));
      if (storedEof !== undefined && base + storedEof > size) {
        return `the file is truncated: it has ${size} bytes but its HDF5 header says ${base + storedEof}`;
      }
      return undefined;
    }
    return "not an HDF5 file (no HDF5 signature found)";
  } finally {
    await handle.close();
  }
}

/** The superblock's end-of-file address, or undefined when unknown/undefined in this version. */
function endOfFileAddress(sb: Buffer): number | undefined {
  const version = sb[8];
  let offsetSize: number | undefined;
  let eofAt: number;
  if (version === 0 || version === 1) {
    offsetSize = sb[13];
    eofAt = (version === 0 ? 24 : 28) + 2 * (offsetSize ?? 0);
  } else if (version === 2 || version === 3) {
    offsetSize = sb[9];
    eofAt = 12 + 2 * (offsetSize ?? 0);
  } else {
    return undefined;
  }
  if (offsetSize === undefined || offsetSize < 1 || offsetSize > 8 || eofAt + offsetSize > sb.length) {
    return undefined;
  }
  let value = 0n;
  for (let i = offsetSize - 1; i >= 0; i--) value = (value << 8n) | BigInt(sb[eofAt + i]!);
  const undefinedAddress = (1n << BigInt(offsetSize * 8)) - 1n;
  return value === undefinedAddress ? undefined : Number(value);
}
