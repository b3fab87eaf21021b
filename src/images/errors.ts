/** The formats decodeImage accepts, in the words a Discord member knows them by. */
export const ACCEPTED_FORMATS_TEXT = "JPEG, PNG, WebP, AVIF, TIFF or GIF";

export type ImageInputErrorCode =
  | "not_an_image"
  | "unsupported_format"
  | "corrupt"
  | "too_many_pixels"
  | "file_too_large"
  | "too_small"
  | "bad_aspect_ratio"
  | "unsupported_output_format";

/**
 * Something is wrong with an image (or file name) a person gave us. `code` is for programs (metrics, tests,
 * choosing a reply); `message` is written to be shown as-is to the person who sent the file.
 */
export class ImageInputError extends Error {
  override readonly name = "ImageInputError";

  constructor(
    readonly code: ImageInputErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isImageInputError(error: unknown): error is ImageInputError {
  return error instanceof ImageInputError;
}
