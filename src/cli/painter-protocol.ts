import type { StylizeRequest } from "../engine/options.js";
import type { StylizeEvent } from "../engine/types.js";

/**
 * Messages between the `stylize` command and its painter process (./painter.ts) over the IPC channel,
 * with the "advanced" serialization so that pixel buffers travel as typed arrays.
 */

/** Sent once by the command: everything the painter needs; the images are already read and decoded. */
export interface PaintJob {
  readonly request: StylizeRequest;
  /** A weights file the user named, or undefined for the one `npm run models` downloads. */
  readonly weights: string | undefined;
  /** --backend, or STYLIZE_BACKEND when the flag is absent (the painter parses it). */
  readonly backend: string | undefined;
}

export type FromPainter =
  /** Listening: the job may be sent (a message sent before the painter listens would be lost). */
  | { readonly type: "ready" }
  | { readonly type: "event"; readonly event: StylizeEvent }
  | { readonly type: "failed"; readonly message: string; readonly stack: string | undefined };
