import { type ChildProcess, fork } from "node:child_process";
import { on, once } from "node:events";
import { fileURLToPath } from "node:url";
import type { FromPainter, PaintJob } from "./painter-protocol.js";

/** The compiled painter script beside this module (the CLI always runs from dist/). */
const PAINTER_SCRIPT = fileURLToPath(new URL("./painter.js", import.meta.url));

/**
 * The engine runs in a child process so that the command's own event loop never waits on a native
 * kernel: Ctrl-C is handled at once, and `kill()` ends a painter that is deep inside a step.
 */
export class PainterProcess {
  readonly #child: ChildProcess;
  readonly #job: PaintJob;

  constructor(job: PaintJob) {
    this.#job = job;
    // Same process group as the command, so a terminal's Ctrl-C reaches the painter directly too.
    this.#child = fork(PAINTER_SCRIPT, [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
  }

  /**
   * Sends the job once the painter listens, then yields its messages until it closes the channel; throws
   * if it ends without a result or an error.
   */
  async *messages(): AsyncGenerator<Exclude<FromPainter, { type: "ready" }>> {
    let settled = false;
    for await (const [message] of on(this.#child, "message", { close: ["disconnect"] })) {
      const typed = message as FromPainter;
      if (typed.type === "ready") {
        this.#child.send(this.#job);
        continue;
      }
      settled ||= typed.type === "failed" || typed.event.type === "done";
      yield typed;
    }
    if (!settled) throw new Error(`the painting process stopped unexpectedly (${await this.#exitReason()})`);
  }

  /** Ends the painter at once (SIGKILL: no handler to wait for); synchronous, so safe in a signal handler. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }

  async #exitReason(): Promise<string> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    return child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`;
  }
}
