import { describe, expect, it } from "vitest";
import { WriteQueue } from "../src/store/write-queue.js";

/** The write queue on its own: a fake "database" that is locked until told otherwise. */

function lockable() {
  const state = { locked: false, written: [] as string[], attempts: 0 };
  const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
  const queue = new WriteQueue({
    run: (work) => {
      state.attempts++;
      if (state.locked) throw busy;
      return work();
    },
    isTransient: (error) => error === busy,
    retryDelaysMs: [5, 10],
  });
  const write = (name: string) =>
    queue.enqueue(() => {
      state.written.push(name);
      return name;
    });
  return { state, queue, write };
}

describe("write queue", () => {
  it("writes at once, before enqueue returns, when nothing waits", async () => {
    const { state, write } = lockable();
    const done = write("a");
    expect(state.written).toEqual(["a"]);
    expect(await done).toBe("a");
  });

  it("holds writes while locked, then writes every one in order", async () => {
    const { state, queue, write } = lockable();
    state.locked = true;
    const writes = ["a", "b", "c"].map(write);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(state.written).toEqual([]);
    expect(queue.size).toBe(3);
    const attempts = state.attempts;
    expect(attempts).toBeGreaterThan(1); // retried by itself
    state.locked = false;
    expect(await Promise.all(writes)).toEqual(["a", "b", "c"]);
    expect(state.written).toEqual(["a", "b", "c"]);
    expect(queue.size).toBe(0);
  });

  it("fails only the write whose own work throws, and goes on", async () => {
    const { state, queue, write } = lockable();
    state.locked = true;
    const first = write("a");
    const broken = queue.enqueue(() => {
      throw new Error("constraint");
    });
    const last = write("c");
    state.locked = false;
    await expect(broken).rejects.toThrow("constraint");
    expect(await first).toBe("a");
    expect(await last).toBe("c");
  });

  it("drain retries until written or the time is up; close rejects what is left", async () => {
    const { state, queue, write } = lockable();
    state.locked = true;
    const pending = write("a");
    expect(await queue.drain(30)).toBe(1);
    setTimeout(() => {
      state.locked = false;
    }, 20);
    expect(await queue.drain(1000)).toBe(0);
    expect(await pending).toBe("a");
    state.locked = true;
    const lost = write("b");
    queue.close();
    await expect(lost).rejects.toThrow(/closed/);
  });
});
