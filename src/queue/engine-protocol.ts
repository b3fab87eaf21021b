import type { BackendName, RgbImage, StylizeEvent, StylizeOptions, ThreadSetting } from "../engine/index.js";

/**
 * Messages between the bot's event loop and an engine worker thread. Pixel buffers travel as
 * transferables (moved, not copied), so a preview frame costs the bot no serialisation work.
 */

/** The engine's configuration, handed over by the bot (the worker reads no environment). */
export interface EngineWorkerData {
  readonly weightsLocation: string;
  readonly backend: BackendName | undefined;
  /** The pool turns "auto" into this worker's share of the cores. */
  readonly threads: ThreadSetting;
  readonly logLevel: string;
}

/** What a job asks the engine for; anything left out takes the engine's defaults. */
export type EngineRequest = Partial<StylizeOptions> & Pick<StylizeOptions, "content" | "styles">;

export type ToWorker =
  | { readonly type: "run"; readonly jobId: string; readonly request: EngineRequest }
  | { readonly type: "cancel"; readonly jobId: string };

export type FromWorker =
  | { readonly type: "ready"; readonly backend: BackendName }
  | { readonly type: "init-failed"; readonly message: string }
  | { readonly type: "event"; readonly jobId: string; readonly event: StylizeEvent }
  | { readonly type: "failed"; readonly jobId: string; readonly message: string }
  | { readonly type: "cancelled"; readonly jobId: string };

/**
 * A copy of `image` whose pixels own a whole ArrayBuffer, plus that buffer to transfer. Copying keeps the
 * sender's image usable (a job keeps its photo for re-rolls) and never detaches a shared Buffer pool.
 */
export function transferableCopy(image: RgbImage): { image: RgbImage; transfer: ArrayBuffer[] } {
  const data = new Uint8Array(image.data);
  return { image: { data, width: image.width, height: image.height }, transfer: [data.buffer] };
}

/** The buffer of an image to transfer when it already owns it whole; copies otherwise. */
export function transferableImage(image: RgbImage): { image: RgbImage; transfer: ArrayBuffer[] } {
  const { data } = image;
  const ownsBuffer =
    data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return ownsBuffer ? { image, transfer: [data.buffer as ArrayBuffer] } : transferableCopy(image);
}
