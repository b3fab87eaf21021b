import { EventEmitter } from "node:events";
import PQueue from "p-queue";

/**
 * A job queue that is fair across members: p-queue bounds how many jobs run at once, and whenever a slot
 * frees up the next job is chosen across members rather than first-come-first-served, so one member's
 * burst cannot starve everyone else. Each member has a "served" count (jobs started); the waiting job of
 * the member with the lowest count starts next, ties broken by arrival. A member who arrives (or comes
 * back) starts level with the least-served active member instead of at zero, so a newcomer does not jump
 * the whole queue either. The result is round robin between members. Limits are not this class's job
 * (admission.ts checks them before a job gets here).
 */

export interface QueuedJob {
  readonly id: string;
  readonly userId: string;
}

export interface FairQueueOptions<J extends QueuedJob> {
  readonly concurrency: number;
  /** Runs one job; must settle when `signal` aborts. Its errors are the runner's to report. */
  readonly run: (job: J, signal: AbortSignal) => Promise<void>;
  readonly onRunError?: (job: J, error: unknown) => void;
}

interface Waiting<J> {
  readonly job: J;
  readonly seq: number;
}

interface Member<J> {
  readonly waiting: Waiting<J>[];
  running: number;
  served: number;
}

export interface FairQueueEvents {
  /** Something moved: a job was added, started, finished or cancelled. */
  changed: [];
}

export class FairQueue<J extends QueuedJob> extends EventEmitter<FairQueueEvents> {
  readonly #options: FairQueueOptions<J>;
  readonly #slots: PQueue;
  readonly #members = new Map<string, Member<J>>();
  readonly #running = new Map<string, { job: J; controller: AbortController }>();
  #seq = 0;

  constructor(options: FairQueueOptions<J>) {
    super();
    this.#options = options;
    this.#slots = new PQueue({ concurrency: options.concurrency });
  }

  /** Adds a job (limits are the caller's: see admission.ts). */
  submit(job: J): void {
    const member = this.#member(job.userId);
    member.waiting.push({ job, seq: this.#seq++ });
    // One slot task per job; the task decides *which* job to run only when it starts.
    void this.#slots.add(() => this.#runNext());
    this.emit("changed");
  }

  /**
   * Cancels a waiting job (removed at once) or a running one (its signal aborts; the runner settles).
   * Returns where the job was, or undefined when the queue does not know it (finished or never added).
   */
  cancel(jobId: string): "waiting" | "running" | undefined {
    const running = this.#running.get(jobId);
    if (running) {
      running.controller.abort(new Error("cancelled"));
      return "running";
    }
    for (const [userId, member] of this.#members) {
      const index = member.waiting.findIndex((w) => w.job.id === jobId);
      if (index < 0) continue;
      member.waiting.splice(index, 1);
      this.#forgetIfIdle(userId, member);
      this.emit("changed");
      return "waiting";
    }
    return undefined;
  }

  /** Waiting jobs in the order they will start if nothing else arrives. */
  waitingOrder(): J[] {
    const served = new Map([...this.#members].map(([id, m]) => [id, m.served]));
    const cursors = new Map([...this.#members].map(([id]) => [id, 0]));
    const order: J[] = [];
    for (;;) {
      const next = this.#pick((id, m) => m.waiting[cursors.get(id)!], served);
      if (!next) return order;
      order.push(next.waiting.job);
      cursors.set(next.userId, cursors.get(next.userId)! + 1);
      served.set(next.userId, served.get(next.userId)! + 1);
    }
  }

  /** 1-based place among waiting jobs, 0 while running, undefined when unknown. */
  positionOf(jobId: string): number | undefined {
    if (this.#running.has(jobId)) return 0;
    const index = this.waitingOrder().findIndex((job) => job.id === jobId);
    return index < 0 ? undefined : index + 1;
  }

  runningJobs(): J[] {
    return [...this.#running.values()].map((r) => r.job);
  }

  /** Start no more jobs (shutdown); waiting ones stay where they are. */
  pause(): void {
    this.#slots.pause();
  }

  /** Aborts every running job's signal (shutdown); their runners settle as they do for a cancel. */
  abortRunning(reason: Error): void {
    for (const { controller } of this.#running.values()) controller.abort(reason);
  }

  /** Resolves when no job is running (waiting ones may remain, e.g. while paused). */
  onRunningDone(): Promise<void> {
    return this.#slots.onPendingZero();
  }

  async #runNext(): Promise<void> {
    const served = new Map([...this.#members].map(([id, m]) => [id, m.served]));
    const next = this.#pick((_, m) => m.waiting[0], served);
    if (!next) return; // its job was cancelled while waiting
    const member = this.#members.get(next.userId)!;
    member.waiting.shift();
    member.served++;
    member.running++;
    const { job } = next.waiting;
    const controller = new AbortController();
    this.#running.set(job.id, { job, controller });
    this.emit("changed");
    try {
      await this.#options.run(job, controller.signal);
    } catch (error) {
      this.#options.onRunError?.(job, error);
    } finally {
      this.#running.delete(job.id);
      member.running--;
      this.#forgetIfIdle(job.userId, member);
      this.emit("changed");
    }
  }

  /** The member whose candidate job starts next: fewest served, then earliest arrival. */
  #pick(
    candidate: (userId: string, member: Member<J>) => Waiting<J> | undefined,
    served: ReadonlyMap<string, number>,
  ): { userId: string; waiting: Waiting<J> } | undefined {
    let best: { userId: string; waiting: Waiting<J>; served: number } | undefined;
    for (const [userId, member] of this.#members) {
      const waiting = candidate(userId, member);
      if (!waiting) continue;
      const count = served.get(userId)!;
      if (!best || count < best.served || (count === best.served && waiting.seq < best.waiting.seq)) {
        best = { userId, waiting, served: count };
      }
    }
    return best;
  }

  #member(userId: string): Member<J> {
    let member = this.#members.get(userId);
    if (!member) {
      // Start level with the least-served active member (jobs still running don't count as served yet).
      const levels = [...this.#members.values()].map((m) => m.served - m.running);
      member = { waiting: [], running: 0, served: levels.length > 0 ? Math.max(0, Math.min(...levels)) : 0 };
      this.#members.set(userId, member);
    }
    return member;
  }

  #forgetIfIdle(userId: string, member: Member<J>): void {
    if (member.waiting.length === 0 && member.running === 0) this.#members.delete(userId);
  }
}
