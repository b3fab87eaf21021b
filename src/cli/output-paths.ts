import { randomBytes } from "node:crypto";
import { mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fsErrorCode, isNotFound, plainFsReason } from "../fs-errors.js";
import { isImageInputError, outputFormatForPath } from "../images/index.js";
import { UserError } from "./user-error.js";

/**
 * Checks made before any painting starts, so that a finished painting is never lost to a path it cannot
 * be written to: the format is one the encoder writes, the folder exists, and a file can really be
 * created there (permissions, read-only or full disks are only known by trying).
 */

/** Throws a UserError saying what to do unless an image can be written at `file`. */
export async function checkOutputFile(file: string): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UserError(
      `--out ${file} is a folder: give a file name, e.g. ${path.join(file, "painting.png")}`,
    );
  }
  try {
    outputFormatForPath(file);
  } catch (error) {
    if (isImageInputError(error)) throw new UserError(`--out ${file}: ${error.message}`);
    throw error;
  }
  await checkWritableFolder(path.dirname(path.resolve(file)), "--out");
}

/**
 * Creates the `--frames` folder if needed (the run would create it anyway) and checks that files can be
 * written in it.
 */
export async function prepareFramesFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    const reason = fsErrorCode(error) === "EEXIST" ? "it is a file" : plainFsReason(error);
    throw new UserError(
      `--frames: cannot create the folder ${folder} (${reason}); choose another --frames folder.`,
    );
  }
  await checkWritableFolder(path.resolve(folder), "--frames");
}

async function checkWritableFolder(folder: string, flag: string): Promise<void> {
  const elsewhere = `or choose another ${flag} path`;
  const info = await stat(folder).catch((error: unknown) => {
    if (isNotFound(error)) {
      throw new UserError(
        `${flag}: the folder ${folder} does not exist; create it (mkdir -p ${folder}) ${elsewhere}.`,
      );
    }
    throw new UserError(
      `${flag}: cannot use the folder ${folder} (${plainFsReason(error)}); ${elsewhere.slice(3)}.`,
    );
  });
  if (!info.isDirectory()) throw new UserError(`${flag}: ${folder} is not a folder; ${elsewhere.slice(3)}.`);
  // Permissions, ACLs, read-only mounts and full disks all show up only when a file is created.
  const probe = path.join(folder, `.stylize-write-check-${randomBytes(6).toString("hex")}`);
  try {
    await (await open(probe, "wx")).close();
  } catch (error) {
    throw new UserError(
      `${flag}: cannot write to the folder ${folder} (${plainFsReason(error)}); fix its permissions ${elsewhere}.`,
    );
  } finally {
    await rm(probe, { force: true });
  }
}
