import { describe, expect, it } from "vitest";
import { FairQueue } from "../src/jobs/fair-queue.js";

interface Job {
  id: string;
  userId: string;
}

/** A queue whose jobs finish only when the test releases them, recording the start order. */
function controlledQueue(options: { concurrency: number }) {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const queue = new FairQueue<Job>({
    concurrency: options.concurrency,
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

  it("cancels waiting jobs without running them and aborts running ones", async () => {
    const { queue, started, tick } = controlledQueue({ concurrency: 1 });
    queue.submit(job("a", 1));
    queue.submit(job("a", 2));
    await tick();
    expect(queue.cancel("a2")).toBe("waiting");
    expect(queue.cancel("a1")).toBe("running");
    await queue.onRunningDone();
    expect(started).toEqual(["a1"]);
    expect(queue.runningJobs()).toEqual([]);
    expect(queue.waitingOrder()).toEqual([]);
    expect(queue.cancel("a1")).toBeUndefined();
  });

  it("aborts every running job at a shutdown and starts nothing more while paused", async () => {
    const { queue, started, tick } = controlledQueue({ concurrency: 2 });
    for (let n = 1; n <= 3; n++) queue.submit(job("a", n));
    await tick();
    queue.pause();
    queue.abortRunning(new Error("shutting down"));
    await queue.onRunningDone();
    expect(started).toEqual(["a1", "a2"]);
    expect(queue.waitingOrder().map((j) => j.id)).toEqual(["a3"]);
  });
});
