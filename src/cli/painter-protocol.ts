import type {
  BackendName,
  StylizeEvent,
  StylizeRequest,
  ThreadSetting,
  WeightsOrigin,
} from "../engine/index.js";

/**
 * Messages between the `stylize` command and its painter process (./painter.ts) over the IPC channel,
 * with the "advanced" serialization so that pixel buffers travel as typed arrays.
 */

/**
 * Sent once by the command: everything the painter needs, the configuration included (the painter reads
 * no environment). The images are already read and decoded.
 */
export interface PaintJob {
  readonly request: StylizeRequest;
  readonly weightsLocation: string;
  readonly weightsOrigin: WeightsOrigin;
  /** Undefined: the fastest backend that loads. */
  readonly backend: BackendName | undefined;
  readonly threads: ThreadSetting;
  readonly logLevel: string;
}

export type FromPainter =
  /** Listening: the job may be sent (a message sent before the painter listens would be lost). */
  | { readonly type: "ready" }
  | { readonly type: "event"; readonly event: StylizeEvent }
  | { readonly type: "failed"; readonly message: string; readonly stack: string | undefined };
