import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  descriptionOf,
  originalEdits,
  paintingReady,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";
import type { SentInteraction } from "./discord-double/index.js";

/**
 * A native crash of the engine (an abort, as a segfault in onnxruntime or libtensorflow would end it) or
 * a kill -9 of its process fails only the job it was running, with a message to the member; the next job
 * runs on a fresh engine process, and the bot's gateway session never drops.
 */

let t: TestBot;
beforeAll(async () => {
  // Long enough that the job is surely mid-run when its engine dies, short enough to finish the next one.
  t = await startTestBot({ env: { STYLIZE_CONCURRENCY: "1" }, engine: { stepsPerScale: 80 } });
});
afterAll(() => t?.close());

/** The engine processes this test's bot started: children of this process running the engine host. */
function enginePids(): number[] {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.includes("engine-host"))
    .map((line) => Number.parseInt(line.trim(), 10));
}

async function paintingInProgress(sent: SentInteraction): Promise<void> {
  await t.eventually(() =>
    originalEdits(t.double, sent.token).some((r) => descriptionOf(r).includes("Painting —")),
  );
}

describe("engine crashes", () => {
  for (const signal of ["SIGABRT", "SIGKILL"] as const) {
    it(`a ${signal} of the engine mid-job fails that job with a message; the next job runs; the gateway stays up`, async () => {
      const connectionsBefore = t.double.gateway.connections.length;
      const crashed = await sendStylize(t.double, ALICE, { style: "starry-test" });
      await paintingInProgress(crashed);
      const [pid, ...others] = enginePids();
      expect(others).toEqual([]);
      process.kill(pid!, signal);

      const ending = await t.eventually(() =>
        originalEdits(t.double, crashed.token).find(
          (r) => r.status < 300 && descriptionOf(r).includes("crashed during this job"),
        ),
      );
      expect(descriptionOf(ending)).toContain(
        `Sorry <@${ALICE.id}> — the painting engine crashed during this job (signal ${signal})`,
      );
      expect(descriptionOf(ending)).toContain("Nothing else was affected; please try again.");

      // The next job gets a fresh engine process and finishes.
      const next = await sendStylize(t.double, BOB, { style: "starry-test" });
      expect(descriptionOf(await paintingReady(t.double, next.token))).toContain("your painting is ready");
      expect(enginePids()).not.toContain(pid);

      // One gateway connection all along, never closed: the bot process did not notice the crash.
      expect(t.double.gateway.connections.length).toBe(connectionsBefore);
      expect(t.double.gateway.connections.every((c) => c.closeCode === undefined)).toBe(true);
      expect(t.bot.client.ws.ping).toBeDefined();
    });
  }
});
