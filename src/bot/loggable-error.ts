/**
 * Moved to src/loggable-error.ts (one error serializer for every layer). Kept as a re-export until the job
 * path that still imports it from here is rewritten.
 */
export { loggableError } from "../loggable-error.js";
