import { describe, expect, it } from "vitest";
import { Admission, JobRefusedError } from "../src/jobs/admission.js";

const alice = { userId: "a" };
const bob = { userId: "b" };

function refusal(run: () => unknown): JobRefusedError {
  try {
    run();
  } catch (error) {
    if (error instanceof JobRefusedError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("Admission", () => {
  it("holds a member's places from the reservation on, and frees one when released (once)", () => {
    const admission = new Admission({ perUserLimit: 2, globalCap: 100 });
    const first = admission.reserve(alice);
    admission.reserve(alice);
    const refused = refusal(() => admission.reserve(alice));
    expect([refused.code, refused.limit]).toEqual(["member_limit", 2]);
    admission.reserve(bob); // other members are unaffected
    admission.release(first);
    admission.release(first); // a second release frees nothing more
    expect(admission.countOf("a")).toBe(1);
    admission.reserve(alice);
    expect(() => admission.reserve(alice)).toThrow(JobRefusedError);
  });

  it("takes a lower member limit per request (a server's setting), never a higher one", () => {
    const admission = new Admission({ perUserLimit: 3, globalCap: 100 });
    admission.reserve(alice, 1);
    expect(refusal(() => admission.reserve(alice, 1)).limit).toBe(1);
    admission.reserve(alice);
    admission.reserve(alice, 10);
    expect(refusal(() => admission.reserve(alice, 10)).limit).toBe(3);
  });

  it("enforces the global cap, and admits recovered jobs without checking", () => {
    const admission = new Admission({ perUserLimit: 5, globalCap: 2 });
    admission.reserve(alice);
    admission.reserve(bob);
    expect(refusal(() => admission.reserve({ userId: "c" })).code).toBe("queue_full");
    admission.admit({ userId: "c" });
    expect(admission.countOf("c")).toBe(1);
  });

  it("lets exactly the limit through when many requests from one member arrive at once", async () => {
    const admission = new Admission({ perUserLimit: 2, globalCap: 100 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, async () => admission.reserve(alice)),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(2);
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(18);
  });
});
