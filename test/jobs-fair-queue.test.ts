import { describe, expect, it } from "vitest";
import { FairQueue, QueueLimitError } from "../src/queue/fair-queue.js";

interface Job {
  id: string;
  userId: string;
}

/** A queue whose jobs finish only when the test releases them, recording the start order. */
function controlledQueue(options: { concurrency: number; perUserLimit?: number; globalCap?: number }) {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const queue = new FairQueue<Job>({
    concurrency: options.concurrency,
    perUserLimit: options.perUserLimit ?? 100,
    globalCap: options.globalCap ?? 1000,
    run: (job, signal) =>
      new Promise<void>((resolve, reject) => {
        started.push(job.id);
        release.set(job.id, resolve);
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
    onRunError: () => {},
  });
  const finish = async (id: string) => {
    release.get(id)!();
    await new Promise((r) => setTimeout(r, 0));
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { queue, started, finish, tick };
}

const job = (userId: string, n: number): Job => ({ id: `${userId}${n}`, userId });

describe("FairQueue", () => {
  it("serves two members' bursts in turn instead of first come first served", async () => {
    const { queue, started, finish, tick } = controlledQueue({ concurrency: 1 });
    for (let n = 1; n <= 4; n++) queue.submit(job("a", n));
    await tick();
    for (let n = 1; n <= 4; n++) queue.submit(job("b", n));
    expect(started).toEqual(["a1"]);
    // Predicted order before anything else runs.
    expect(queue.waitingOrder().map((j) => j.id)).toEqual(["b1", "a2", "b2", "a3", "b3", "a4", "b4"]);
    expect(queue.positionOf("b1")).toBe(1);
    expect(queue.positionOf("a1")).toBe(0);
    expect(queue.positionOf("nope")).toBeUndefined();
    for (const id of ["a1", "b1", "a2", "b2", "a3", "b3", "a4"]) await finish(id);
    expect(started).toEqual(["a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"]);
  });

  it("lets a newcomer in before the jobs of a member who is already running several", async () => {
    const { queue, started, finish, tick } = controlledQueue({ concurrency: 2 });
    for (let n = 1; n <= 4; n++) queue.submit(job("a", n));
    await tick();
    expect(started).toEqual(["a1", "a2"]);
    queue.submit(job("c", 1));
    expect(queue.positionOf("c1")).toBe(1);
    await finish("a1");
    expect(started).toEqual(["a1", "a2", "c1"]);
  });

  it("enforces the per-member limit over running and waiting jobs, and frees it when a job ends", async () => {
    const { queue, finish, tick } = controlledQueue({ concurrency: 1, perUserLimit: 2 });
    queue.submit(job("a", 1));
    queue.submit(job("a", 2));
    await tick();
    expect(() => queue.submit(job("a", 3))).toThrowError(QueueLimitError);
    try {
      queue.submit(job("a", 3));
    } catch (error) {
      expect((error as QueueLimitError).reason).toBe("user_limit");
    }
    queue.submit(job("b", 1)); // other members are unaffected
    await finish("a1");
    expect(() => queue.submit(job("a", 3))).not.toThrow();
  });

  it("takes a lower per-member limit per job (a server's setting), never a higher one", () => {
    const { queue } = controlledQueue({ concurrency: 1, perUserLimit: 3 });
    queue.submit(job("a", 1), 1);
    expect(() => queue.submit(job("a", 2), 1)).toThrow(/you already have 1 job queued/);
    queue.submit(job("a", 2)); // the queue's own limit, 3
    queue.submit(job("a", 3), 10);
    expect(() => queue.submit(job("a", 4), 10)).toThrow(/you already have 3 jobs queued/);
  });

  it("enforces the global cap", () => {
    const { queue } = controlledQueue({ concurrency: 1, globalCap: 3 });
    queue.submit(job("a", 1));
    queue.submit(job("b", 1));
    queue.submit(job("c", 1));
    expect(() => queue.submit(job("d", 1))).toThrow(/queue is full/);
  });

  it("cancels waiting jobs without running them and aborts running ones", async () => {
    const { queue, started, tick } = controlledQueue({ concurrency: 1 });
    queue.submit(job("a", 1));
    queue.submit(job("a", 2));
    await tick();
    expect(queue.cancel("a2")).toBe("waiting");
    expect(queue.cancel("a1")).toBe("running");
    await queue.onIdle();
    expect(started).toEqual(["a1"]);
    expect(queue.size).toBe(0);
    expect(queue.cancel("a1")).toBeUndefined();
  });
});
