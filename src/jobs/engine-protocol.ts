import type { BackendName, StylizeEvent, StylizeOptions, WeightsOrigin } from "../engine/index.js";
import type { EncodedImage } from "./events.js";

/**
 * Messages between a job runner and an engine process (engine-host.ts), over Node's IPC channel with the
 * "advanced" serialization, so byte arrays travel as they are. Images cross as encoded files: the host
 * decodes the photo and paintings and encodes previews and the result, which keeps pixel work off the
 * runner's event loop and keeps messages small.
 */

export interface EngineHostConfig {
  readonly weightsLocation: string;
  /** Whether the weights are the downloaded file or the user's own (STYLIZE_WEIGHTS), for the error message. */
  readonly weightsOrigin: WeightsOrigin;
  readonly backend: BackendName | undefined;
  /** CPU threads of the onnxruntime / wasm backends in this process. */
  readonly threads: number;
  readonly logLevel: string;
}

/** The engine options of one job, minus the images, which travel encoded. */
export type EngineOptions = Partial<Omit<StylizeOptions, "content" | "styles" | "initImage">>;

export interface EngineJob {
  readonly options: EngineOptions;
  /** Encoded image files (PNG, JPEG, ...). */
  readonly content: Uint8Array;
  readonly styles: readonly { readonly image: Uint8Array; readonly weight: number }[];
  /** An encoded image to start from instead of the photo (the engine's `initImage`), e.g. a result to refine. */
  readonly initImage?: Uint8Array;
  /** Long edge of timelapse frames. */
  readonly frameEdge: number;
}

export type EngineEvent =
  | Extract<StylizeEvent, { type: "start" | "step" }>
  | {
      readonly type: "preview";
      readonly overallStep: number;
      /** At the result's size, whatever the scale, so previews do not change size. */
      readonly preview: EncodedImage;
      /** A small frame for the timelapse. */
      readonly frame: EncodedImage;
    }
  | {
      readonly type: "done";
      readonly image: EncodedImage;
      readonly frame: EncodedImage;
      readonly elapsedMs: number;
      readonly totalSteps: number;
    };

export type ToEngine =
  | { readonly type: "init"; readonly config: EngineHostConfig }
  | { readonly type: "run"; readonly jobId: string; readonly job: EngineJob }
  | { readonly type: "cancel"; readonly jobId: string };

export type FromEngine =
  | { readonly type: "ready"; readonly backend: BackendName }
  | { readonly type: "init-failed"; readonly message: string }
  | { readonly type: "event"; readonly jobId: string; readonly event: EngineEvent }
  | { readonly type: "failed"; readonly jobId: string; readonly message: string }
  | { readonly type: "cancelled"; readonly jobId: string };
