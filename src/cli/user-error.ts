/** A problem the user can fix (a path, a flag, a file): printed as is, without a stack. */
export class UserError extends Error {
  override name = "UserError";
}
