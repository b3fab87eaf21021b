import os from "node:os";
import type { EngineConfig } from "../config.js";
import type { BackendName, ThreadSetting } from "../engine/index.js";
import type { Logger } from "../log.js";
import {
  type EngineDone,
  EngineProcess,
  type EngineProcessOptions,
  type RunOptions,
} from "./engine-process.js";
import type { EngineHostConfig, EngineJob } from "./engine-protocol.js";

/**
 * The engine slots: one supervised engine process each (one per GPU, or a share of the CPU cores). The
 * caller (the fair queue) never runs more jobs at once than there are slots.
 */

export interface EnginePoolOptions extends Omit<EngineProcessOptions, "config"> {
  readonly size: number;
  /** `threads: "auto"` shares the cores between the slots. */
  readonly config: Omit<EngineHostConfig, "threads"> & { readonly threads: ThreadSetting };
}

export const DEFAULT_ENGINE_SCRIPT = new URL("./engine-host.js", import.meta.url);

/** The engine slots as configured (the bot's and a fleet worker's alike); `more` adds or overrides options. */
export function configuredEnginePool(
  config: EngineConfig & {
    readonly queue: { readonly concurrency: number; readonly engineMaxRssBytes: number };
  },
  log: Logger,
  more: Partial<EnginePoolOptions> = {},
): EnginePool {
  return new EnginePool({
    size: config.queue.concurrency,
    script: DEFAULT_ENGINE_SCRIPT,
    log: log.child({ component: "engine" }),
    maxRssBytes: config.queue.engineMaxRssBytes,
    cancelGraceMs: 10_000,
    config: {
      weightsLocation: config.weightsLocation,
      weightsOrigin: config.weightsOrigin,
      backend: config.backend,
      threads: config.threads,
      logLevel: config.logLevel,
    },
    ...more,
  });
}

export class EnginePool {
  readonly #slots: EngineProcess[];

  constructor(options: EnginePoolOptions) {
    // Concurrent jobs must not oversubscribe the CPU: each process gets cores ÷ slots unless configured.
    const { threads: setting } = options.config;
    const threads =
      setting === "auto" ? Math.max(1, Math.floor(os.availableParallelism() / options.size)) : setting;
    this.#slots = Array.from(
      { length: options.size },
      () => new EngineProcess({ ...options, config: { ...options.config, threads } }),
    );
  }

  get size(): number {
    return this.#slots.length;
  }

  /** The engine processes' ids (undefined for a slot whose process is not running), for health checks. */
  pids(): (number | undefined)[] {
    return this.#slots.map((slot) => slot.pid);
  }

  /** Starts every process now so the first job doesn't pay for loading weights. */
  async warmUp(): Promise<BackendName> {
    const backends = await Promise.all(this.#slots.map((slot) => slot.ready()));
    return backends[0]!;
  }

  run(jobId: string, job: EngineJob, options: RunOptions): Promise<EngineDone> {
    const slot = this.#slots.find((s) => !s.busy);
    if (!slot) throw new Error("EnginePool.run called with every slot busy");
    return slot.run(jobId, job, options);
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.close()));
  }
}
