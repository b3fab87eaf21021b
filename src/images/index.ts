/** The images module: the front door for untrusted uploads and the way results leave as files. */
export {
  DEFAULT_IMAGE_LIMITS,
  type DecodedImage,
  type DecodeOptions,
  decodeImage,
  type ImageFormat,
  type ImageLimits,
} from "./decode.js";
export {
  type AnimationFormat,
  type AnimationOptions,
  DEFAULT_QUALITY,
  type EncodeOptions,
  type EncodeToFitOptions,
  encodeAnimation,
  encodeFile,
  encodeImage,
  encodeToFit,
  type FittedImage,
  type OutputFormat,
  outputFormatForPath,
} from "./encode.js";
export {
  ACCEPTED_FORMATS_TEXT,
  ImageInputError,
  type ImageInputErrorCode,
  isImageInputError,
} from "./errors.js";
export { fitWithin, type Size, scaleToLongEdge } from "./geometry.js";
export { differenceHash, hammingDistance } from "./perceptual-hash.js";
export { resizeImage } from "./resize.js";
export { DEFAULT_TIMELAPSE, Timelapse, type TimelapseFrame, type TimelapseOptions } from "./timelapse.js";
