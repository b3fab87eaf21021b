import { isImageInputError } from "../images/index.js";
import { JobRefusedError } from "../jobs/index.js";

/**
 * A refusal meant for the member (Sapphire's UserError): `identifier` names it for logs and tests, and the
 * message is safe to show as it is. Handlers throw it; interactions.ts answers it privately, in one place.
 */
export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    readonly identifier: string,
    message: string,
  ) {
    super(message);
  }
}

/** The member-facing form of an error, if it is one: ours, the image checks', or a job limit's. */
export function asUserError(error: unknown): UserError | undefined {
  if (error instanceof UserError) return error;
  if (isImageInputError(error)) return new UserError(`image.${error.code}`, error.message);
  if (error instanceof JobRefusedError) return new UserError(`limit.${error.code}`, refusalText(error));
  return undefined;
}

function refusalText(error: JobRefusedError): string {
  const { limit } = error;
  return error.code === "member_limit"
    ? `Sorry — you already have ${limit} job${limit === 1 ? "" : "s"} queued or running. Wait for one to finish (or cancel one) and try again.`
    : `Sorry — the queue is full (${limit} jobs). Try again in a few minutes.`;
}
