import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, BOB, descriptionOf, embedOf, sendStylize, startTestBot } from "./bot-helpers.js";
import {
  type DiscordDouble,
  type RecordedRequest,
  type SentInteraction,
  startDiscordDouble,
} from "./discord-double/index.js";

/**
 * A restart loses no work: jobs that were queued or running continue after the bot comes back, in their
 * channels (the old interaction replies are out of reach), while finished jobs stay finished.
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
  it("resumes queued and running jobs in their channels and leaves finished ones alone", async () => {
    const env = { STYLIZE_DATA_DIR: dataDir, STYLIZE_CONCURRENCY: "1", STYLIZE_PER_USER_LIMIT: "3" };
    const first = await startTestBot({ env, useDouble: double, engine: { stepsPerScale: 30 } });
    const edits = (sent: SentInteraction) =>
      double.requests.filter((r) => r.method === "PATCH" && r.path.includes(sent.token));
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
    await first.eventually(() => edits(alice).some((r) => descriptionOf(r).includes("Scale")));
    expect(edits(bob).some((r) => descriptionOf(r).includes("in the queue"))).toBe(true);
    await first.close(); // mid-run for Alice, queued for Bob

    const restartedAt = Date.now();
    const second = await startTestBot({ env, useDouble: double });
    try {
      const inChannel = (user: typeof ALICE) =>
        double.requests.filter(
          (r) =>
            r.at >= restartedAt &&
            r.route.startsWith(`/channels/${double.channelId}/messages`) &&
            r.status < 300 &&
            descriptionOf(r).includes(`<@${user.id}>`),
        );
      for (const user of [ALICE, BOB]) {
        const done = await second.eventually(
          () => inChannel(user).find((r) => descriptionOf(r).includes("your painting is ready")),
          60_000,
        );
        expect(footer(done)).toContain("resumed after a restart");
        expect(done.files.some((f) => f.name.startsWith("stylized-"))).toBe(true);
      }
      expect(inChannel(CAROL)).toEqual([]);
      // Each resumed job got one new channel message, then edits of it.
      const posts = double.requests.filter(
        (r) =>
          r.at >= restartedAt && r.method === "POST" && r.route === `/channels/${double.channelId}/messages`,
      );
      expect(posts).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});
