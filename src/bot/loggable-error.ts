/**
 * Moved to src/loggable-error.ts (one error serializer for every layer, applied by the logger itself: log
 * `{ err: error }`). Kept as a re-export until the job path that still imports it here is rewritten.
 */
export { loggableError } from "../loggable-error.js";
