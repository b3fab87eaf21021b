import { type ChildProcess, fork } from "node:child_process";
import pidusage from "pidusage";
import type { BackendName } from "../engine/index.js";
import type { Logger } from "../log.js";
import type { EngineEvent, EngineHostConfig, EngineJob, FromEngine, ToEngine } from "./engine-protocol.js";

/**
 * One supervised engine process. It is forked on first use (or warmUp), loads the weights once and runs
 * jobs one at a time. Whatever happens to it — a native crash, an abort, a kill, more memory than allowed,
 * a job over its time limit — fails only the job it was running (an EngineStopError saying why), and the
 * next job gets a fresh process, started after a back-off that grows while processes keep dying.
 */

export type EngineStopReason = "cancelled" | "crashed" | "timed_out" | "unavailable" | "failed";

/** Why a run ended without a result; `message` is safe to show a member. */
export class EngineStopError extends Error {
  override readonly name = "EngineStopError";
  constructor(
    readonly reason: EngineStopReason,
    message: string,
  ) {
    super(message);
  }
}

export type EngineDone = Extract<EngineEvent, { type: "done" }>;

export interface EngineProcessOptions {
  /** The compiled engine-host script (tests pass a bundled copy of the TypeScript source). */
  readonly script: string | URL;
  readonly config: EngineHostConfig;
  readonly log: Logger;
  /** Kill the process when its resident memory goes above this. */
  readonly maxRssBytes: number;
  /** After a cancel, how long the process may take to stop before it is killed. */
  readonly cancelGraceMs: number;
  /** Variables added to the child's environment (a fleet worker pins its GPU with CUDA_VISIBLE_DEVICES). */
  readonly env?: Readonly<Record<string, string>>;
  /** Node options for the child (e.g. --max-old-space-size). */
  readonly execArgv?: readonly string[];
  /** Back-off before respawning after a death: doubles from `min` up to `max`. */
  readonly respawnBackoffMs?: { readonly min: number; readonly max: number };
}

export interface RunOptions {
  readonly onEvent: (event: Exclude<EngineEvent, EngineDone>) => void;
  readonly signal?: AbortSignal;
  /** Fail the job (and replace the process) when it runs longer than this. */
  readonly timeoutMs: number;
}

interface CurrentRun {
  readonly jobId: string;
  readonly options: RunOptions;
  readonly settle: (outcome: { done: EngineDone } | { error: EngineStopError }) => void;
}

const MEMORY_POLL_MS = 1000;
const DEFAULT_BACKOFF = { min: 500, max: 30_000 };

export class EngineProcess {
  readonly #options: EngineProcessOptions;
  #child: ChildProcess | undefined;
  #ready: Promise<BackendName> | undefined;
  #current: CurrentRun | undefined;
  /** Set from the moment run() is called, so two callers never pick the same free process. */
  #busy = false;
  /** Deaths since the last successful run, for the back-off. */
  #deaths = 0;
  #closed = false;

  constructor(options: EngineProcessOptions) {
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get busy(): boolean {
    return this.#busy;
  }

  /** Starts the process if needed; resolves once its backend and weights are loaded. */
  ready(): Promise<BackendName> {
    if (this.#closed)
      return Promise.reject(new EngineStopError("unavailable", "the engine is shutting down"));
    this.#ready ??= this.#spawn();
    return this.#ready;
  }

  async #spawn(): Promise<BackendName> {
    if (this.#deaths > 0) {
      const { min, max } = this.#options.respawnBackoffMs ?? DEFAULT_BACKOFF;
      await new Promise((resolve) => setTimeout(resolve, Math.min(max, min * 2 ** (this.#deaths - 1))));
    }
    const child = fork(this.#options.script, [], {
      serialization: "advanced",
      env: { ...process.env, ...this.#options.env },
      execArgv: [...(this.#options.execArgv ?? [])],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child = child;
    return new Promise<BackendName>((resolve, reject) => {
      let started = false;
      child.on("message", (message: FromEngine) => {
        if (message.type === "ready") {
          started = true;
          resolve(message.backend);
        } else if (message.type === "init-failed") {
          this.#discard(child);
          reject(new EngineStopError("unavailable", message.message));
        } else this.#onJobMessage(message);
      });
      child.on("error", (error) => this.#options.log.warn({ err: error }, "engine process error"));
      child.on("exit", (code, signal) => {
        if (this.#child !== child) return;
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        this.#deaths++;
        this.#discard(child);
        if (!started) {
          reject(new EngineStopError("unavailable", `the painting engine failed to start (${how})`));
          return;
        }
        this.#options.log.error({ pid: child.pid, code, signal }, "engine process died");
        this.#fail(new EngineStopError("crashed", `the painting engine crashed during this job (${how})`));
      });
      this.#send(child, { type: "init", config: this.#options.config });
    });
  }

  /** Runs one job; resolves with its `done` event or rejects with an EngineStopError. */
  async run(jobId: string, job: EngineJob, options: RunOptions): Promise<EngineDone> {
    if (this.#busy) throw new Error("EngineProcess.run called while a job is running");
    this.#busy = true;
    try {
      return await this.#run(jobId, job, options);
    } finally {
      this.#busy = false;
    }
  }

  async #run(jobId: string, job: EngineJob, options: RunOptions): Promise<EngineDone> {
    await this.ready();
    const child = this.#child!;
    if (options.signal?.aborted) throw new EngineStopError("cancelled", "cancelled");
    return new Promise<EngineDone>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const onAbort = () => {
        this.#send(child, { type: "cancel", jobId });
        // A process stuck in one long native kernel cannot read the message: replace it.
        timers.push(
          setTimeout(
            () => this.#kill(child, new EngineStopError("cancelled", "cancelled")),
            this.#options.cancelGraceMs,
          ),
        );
      };
      timers.push(
        setTimeout(() => {
          const minutes = Math.round(options.timeoutMs / 60_000);
          this.#kill(
            child,
            new EngineStopError("timed_out", `the painting took longer than the ${minutes}-minute limit`),
          );
        }, options.timeoutMs),
      );
      timers.push(setInterval(() => void this.#checkMemory(child), MEMORY_POLL_MS));
      this.#current = {
        jobId,
        options,
        settle: (outcome) => {
          for (const timer of timers) clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          this.#current = undefined;
          if ("done" in outcome) {
            this.#deaths = 0;
            resolve(outcome.done);
          } else reject(outcome.error);
        },
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#send(child, { type: "run", jobId, job });
    });
  }

  async #checkMemory(child: ChildProcess): Promise<void> {
    if (child.pid === undefined || this.#child !== child) return;
    const rss = await pidusage(child.pid).then(
      (stats) => stats.memory,
      () => undefined, // the process just ended: its exit handler reports it
    );
    if (rss === undefined || rss <= this.#options.maxRssBytes) return;
    const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
    this.#options.log.error(
      { pid: child.pid, rss, limit: this.#options.maxRssBytes },
      "engine process over its memory limit",
    );
    this.#kill(
      child,
      new EngineStopError(
        "crashed",
        `the painting needed more memory than this bot allows (${gb(rss)} GB of ${gb(this.#options.maxRssBytes)} GB)`,
      ),
    );
  }

  #onJobMessage(message: Exclude<FromEngine, { type: "ready" | "init-failed" }>): void {
    const current = this.#current;
    if (!current || current.jobId !== message.jobId) return;
    switch (message.type) {
      case "event":
        if (message.event.type === "done") current.settle({ done: message.event });
        else current.options.onEvent(message.event);
        break;
      case "failed":
        current.settle({ error: new EngineStopError("failed", message.message) });
        break;
      case "cancelled":
        current.settle({ error: new EngineStopError("cancelled", "cancelled") });
        break;
    }
  }

  #fail(error: EngineStopError): void {
    this.#current?.settle({ error });
  }

  /** Ends the process at once and fails its job with `error`. */
  #kill(child: ChildProcess, error: EngineStopError): void {
    if (this.#child !== child) return;
    this.#discard(child);
    this.#fail(error);
  }

  #send(child: ChildProcess, message: ToEngine): void {
    if (child.connected) child.send(message);
  }

  /** Forget a dead or failed process (killing it if it still runs), so the next run spawns a fresh one. */
  #discard(child: ChildProcess): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#ready = undefined;
    child.removeAllListeners("message");
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }

  /** Kills the process; a running job fails as unavailable (callers finish or hand back jobs first). */
  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    if (!child) return;
    const exited =
      child.exitCode === null && child.signalCode === null
        ? new Promise((resolve) => child.once("exit", resolve))
        : undefined;
    this.#discard(child);
    this.#fail(new EngineStopError("unavailable", "the bot is shutting down"));
    await exited;
  }
}
