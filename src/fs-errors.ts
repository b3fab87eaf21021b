/**
 * Plain words for failed file operations. Node's messages lead with the errno code and end with the
 * syscall ("EACCES: permission denied, open '/x'"), which users should not have to decode.
 */

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "does not exist",
  ENOTDIR: "does not exist (part of the path is a file, not a folder)",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a folder, not a file",
  EROFS: "is on a read-only file system",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "has too many symbolic links",
  EMFILE: "too many files are open",
  EBUSY: "is busy",
};

/** The code of a Node file-system error, if it is one. */
export function fsErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A short reason such as "does not exist" or "permission denied", without errno codes or syscalls. */
export function plainFsReason(error: unknown): string {
  const code = fsErrorCode(error);
  const known = code === undefined ? undefined : REASONS[code];
  if (known) return known;
  const message = error instanceof Error ? error.message : String(error);
  // "ECODE: what happened, syscall 'path'" → "what happened"
  return message.replace(/^[A-Z0-9_]+: /, "").replace(/, \w+ '.*'$/, "");
}

/** Whether the error says the path is not there (as opposed to there but unusable). */
export function isNotFound(error: unknown): boolean {
  const code = fsErrorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}
