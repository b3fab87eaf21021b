import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetLimitRefusal } from "../src/bot/preset-limits.js";
import type { PresetLimits } from "../src/config.js";
import { ALICE, BOB, noisePng, privateReply, sendPreset, startTestBot, type TestBot } from "./bot-helpers.js";

/**
 * `/preset add` limits on the loopback double: a cooldown per member, submissions waiting per member and
 * per server, and a storage quota per server; refusals are private, and those known up front come before
 * the "thinking…" reply and before the upload is downloaded.
 */

const CAROL = { id: "200000000000000003", username: "carol" };
const DAVE = { id: "200000000000000004", username: "dave" };
const COOLDOWN_MS = 2000;

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({
    env: {
      STYLIZE_PRESET_PENDING_PER_MEMBER: "2",
      STYLIZE_PRESET_PENDING_PER_SERVER: "3",
      STYLIZE_PRESET_COOLDOWN_S: String(COOLDOWN_MS / 1000),
      STYLIZE_PRESET_QUOTA_MB: "1",
    },
  });
}, 60_000);
afterAll(() => t?.close());

let seed = 1;
/** Submits a noise painting; returns the private reply and whether its upload was ever downloaded. */
async function submit(user: { id: string; username: string }, name: string, size = 200) {
  const image = t.double.hostAttachment(await noisePng(size, seed++), {
    filename: "painting.png",
    contentType: "image/png",
  });
  const sent = sendPreset(t.double, "add", user, { name, image });
  const text = await privateReply(t.double, sent);
  const callback = await sent.response;
  return { text, immediate: callback.type === 4, downloaded: t.double.attachmentFetches(image.id) > 0 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("/preset add limits", () => {
  it("five submissions at once from one member: one goes on, four meet the cooldown before any download", async () => {
    const replies = await Promise.all([1, 2, 3, 4, 5].map((i) => submit(ALICE, `Burst ${i}`)));
    const accepted = replies.filter((r) => /waiting for a moderator/.test(r.text));
    const refused = replies.filter((r) => /Please wait \d/.test(r.text));
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(4);
    for (const reply of refused) expect(reply).toMatchObject({ immediate: true, downloaded: false });
  });

  it("after the cooldown a member may submit again, up to their pending limit", async () => {
    await sleep(COOLDOWN_MS);
    expect((await submit(ALICE, "Second")).text).toMatch(/waiting for a moderator/);
    await sleep(COOLDOWN_MS);
    const third = await submit(ALICE, "Third");
    expect(third.text).toMatch(/You already have 2 styles waiting for a moderator here/);
    expect(third).toMatchObject({ immediate: true, downloaded: false });
  });

  it("the server's pending limit counts every member's submissions", async () => {
    expect((await submit(BOB, "Bob's")).text).toMatch(/waiting for a moderator/);
    const carol = await submit(CAROL, "Carol's");
    expect(carol.text).toMatch(/This server already has 3 styles waiting/);
    expect(carol).toMatchObject({ immediate: true, downloaded: false });
  });

  it("the storage quota refuses a painting that does not fit, whatever its status", async () => {
    const { store } = t.bot.context;
    const guildId = t.double.guildId;
    for (const preset of store.presets(guildId, "pending")) store.setPresetStatus(preset.id, "rejected");
    store.updateGuildSettings(guildId, { autoApprove: true });
    // About 0.75 MB stored (JPEG of noise): fits beside the ~0.13 MB of rejected submissions.
    expect((await submit(DAVE, "Big One", 900)).text).toMatch(/Added “Big One”/);
    const before = store.presets(guildId).length;
    await sleep(COOLDOWN_MS);
    const over = await submit(DAVE, "One Too Many", 600); // another ~0.33 MB: over 1 MB
    expect(over.text).toMatch(/This painting needs 0\.3 MB, more than is left \(0\.\d MB of the 1\.0 MB/);
    expect(over.text).toMatch(/\/preset remove/);
    expect(store.presets(guildId)).toHaveLength(before);
  });
});

describe("presetLimitRefusal", () => {
  const limits: PresetLimits = {
    pendingPerMember: 2,
    pendingPerServer: 5,
    cooldownMs: 60_000,
    quotaBytes: 1 << 20,
  };
  const idle = { pendingByMember: 0, pendingInServer: 0, storedBytes: 0, lastSubmittedAt: undefined };

  it("allows a submission within every limit", () => {
    expect(presetLimitRefusal(idle, limits, 1000)).toBeUndefined();
    expect(presetLimitRefusal({ ...idle, lastSubmittedAt: 0 }, limits, 0, 60_000)).toBeUndefined();
  });

  it("names the limit that refuses it", () => {
    expect(presetLimitRefusal({ ...idle, pendingByMember: 2 }, limits)).toMatch(/You already have 2 styles/);
    expect(presetLimitRefusal({ ...idle, pendingInServer: 5 }, limits)).toMatch(/already has 5 styles/);
    expect(presetLimitRefusal({ ...idle, lastSubmittedAt: 1000 }, limits, 0, 31_000)).toMatch(
      /Please wait 30 s/,
    );
    expect(presetLimitRefusal({ ...idle, storedBytes: 1 << 20 }, limits)).toMatch(
      /already take 1\.0 MB of the 1\.0 MB/,
    );
    expect(presetLimitRefusal({ ...idle, storedBytes: 900_000 }, limits, 200_000)).toMatch(/needs 0\.2 MB/);
  });
});
