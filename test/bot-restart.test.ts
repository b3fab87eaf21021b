import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  descriptionOf,
  embedOf,
  originalEdits,
  sendStylize,
  startTestBot,
} from "./bot-helpers.js";
import {
  type DiscordDouble,
  type RecordedRequest,
  type SentInteraction,
  startDiscordDouble,
} from "./discord-double/index.js";

/**
 * A restart loses no work: at a shutdown the running job goes back to the queue and both its reply and the
 * queued job's say the bot is restarting; after the restart both run and finish in their own replies (the
 * interaction tokens are still alive), while finished jobs stay finished.
 */

const CAROL = { id: "200000000000000003", username: "carol" };

let double: DiscordDouble;
let dataDir: string;
beforeAll(async () => {
  double = await startDiscordDouble();
  dataDir = await mkdtemp(path.join(tmpdir(), "stylize-restart-"));
});
afterAll(async () => {
  await double?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const footer = (r: RecordedRequest) => embedOf(r).footer?.text ?? "";

describe("restart", () => {
  it("takes up queued and running jobs in their own replies and leaves finished ones alone", async () => {
    const env = { STYLIZE_DATA_DIR: dataDir, STYLIZE_CONCURRENCY: "1", STYLIZE_PER_USER_LIMIT: "3" };
    const first = await startTestBot({ env, useDouble: double, engine: { stepsPerScale: 30 } });
    const edits = (sent: SentInteraction) => originalEdits(double, sent.token).filter((r) => r.status < 300);
    const send = async (user: typeof ALICE) => {
      const sent = await sendStylize(double, user, { style: "wave-test" }, [64, 48]);
      await first.eventually(() => edits(sent).length > 0);
      return sent;
    };

    const carol = await send(CAROL);
    await first.eventually(
      () => edits(carol).some((r) => descriptionOf(r).includes("your painting is ready")),
      60_000,
    );
    const alice = await send(ALICE);
    const bob = await send(BOB);
    await first.eventually(() => edits(alice).some((r) => descriptionOf(r).includes("Painting —")));
    expect(edits(bob).some((r) => descriptionOf(r).includes("in the queue"))).toBe(true);
    await first.close(); // mid-run for Alice, queued for Bob
    for (const sent of [alice, bob]) {
      expect(descriptionOf(edits(sent).at(-1)!)).toContain("the bot is restarting");
    }

    const restartedAt = Date.now();
    const second = await startTestBot({ env, useDouble: double });
    try {
      for (const sent of [alice, bob]) {
        const done = await second.eventually(
          () =>
            edits(sent).find(
              (r) => r.at >= restartedAt && descriptionOf(r).includes("your painting is ready"),
            ),
          60_000,
        );
        expect(footer(done)).toContain("resumed after a restart");
        expect(done.files.some((f) => f.name.startsWith("stylized-"))).toBe(true);
      }
      // Carol's finished job was not touched again, and nothing new was posted in the channel.
      expect(edits(carol).filter((r) => r.at >= restartedAt)).toEqual([]);
      const posts = double.requests.filter(
        (r) =>
          r.at >= restartedAt && r.method === "POST" && r.route === `/channels/${double.channelId}/messages`,
      );
      expect(posts).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
