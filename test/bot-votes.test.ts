import type { TextChannel } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { photoPng, startTestBot, type TestBot } from "./bot-helpers.js";

/**
 * Reaction votes end to end: a real result delivered by /stylize on the loopback double, then raw
 * MESSAGE_REACTION_ADD / REMOVE dispatches as Discord sends them, on cached and uncached messages.
 */

const ALICE = { id: "200000000000000001", username: "alice" };
const VOTERS = ["300000000000000001", "300000000000000002", "300000000000000003", "300000000000000004"];

let t: TestBot;
let messageId: string;

beforeAll(async () => {
  t = await startTestBot();
  messageId = await stylizeAndWait();
}, 120_000);
afterAll(() => t?.close());

async function stylizeAndWait(): Promise<string> {
  const image = t.double.hostAttachment(await photoPng(40, 30), {
    filename: "p.png",
    contentType: "image/png",
  });
  const sent = t.double.sendCommand({
    name: "stylize",
    user: ALICE,
    options: { image, style: "starry-test", size: 32 } as never,
  });
  await sent.response;
  const id = t.double.originalResponse(sent.token)?.id;
  return t.eventually(() => (id && t.bot.context.store.result(id) ? id : undefined), 60_000);
}

function react(
  change: "add" | "remove",
  userId: string,
  target: string,
  emoji: { id: string | null; name: string } = { id: null, name: "⭐" },
) {
  t.double.dispatch(change === "add" ? "MESSAGE_REACTION_ADD" : "MESSAGE_REACTION_REMOVE", {
    user_id: userId,
    channel_id: t.double.channelId,
    message_id: target,
    guild_id: t.double.guildId,
    emoji,
    burst: false,
    type: 0,
  });
}

/** Reaction events are handled in order, so once `expected` shows, every earlier event was handled. */
const votesReach = (target: string, expected: number) =>
  t.eventually(() => t.bot.context.store.votes(target) === expected, 10_000);

describe("reaction votes", () => {
  it("records the delivered result with its requester, preset and seed", () => {
    const result = t.bot.context.store.result(messageId)!;
    expect(result).toMatchObject({
      requesterId: ALICE.id,
      guildId: t.double.guildId,
      channelId: t.double.channelId,
      preset: "starry-test",
    });
    expect(result.settings).toMatchObject({ presetId: "starry-test", seed: result.seed });
  });

  it("count once per member on a cached message; removing takes the vote back", async () => {
    const channel = t.bot.client.channels.cache.get(t.double.channelId) as TextChannel;
    expect(channel.messages.cache.has(messageId)).toBe(true);
    react("add", VOTERS[0]!, messageId);
    react("add", VOTERS[0]!, messageId); // a repeated event
    react("add", VOTERS[1]!, messageId);
    await votesReach(messageId, 2);
    react("add", VOTERS[2]!, messageId, { id: null, name: "👍" }); // not the vote emoji
    react("add", VOTERS[2]!, messageId, { id: null, name: "⭐\uFE0F" }); // same star, other encoding
    await votesReach(messageId, 3);
    react("remove", VOTERS[0]!, messageId);
    react("remove", VOTERS[0]!, messageId);
    await votesReach(messageId, 2);
    react("add", VOTERS[0]!, messageId);
    await votesReach(messageId, 3);
  });

  it("ignore the requester's and the bot's own reactions", async () => {
    const before = t.bot.context.store.votes(messageId);
    react("add", ALICE.id, messageId);
    react("add", t.double.botUserId, messageId);
    react("add", VOTERS[3]!, messageId); // the marker: handled after the two above
    await votesReach(messageId, before + 1);
    react("remove", VOTERS[3]!, messageId);
    await votesReach(messageId, before);
  });

  it("count on messages discord.js has not cached (partials)", async () => {
    const channel = t.bot.client.channels.cache.get(t.double.channelId) as TextChannel;
    channel.messages.cache.delete(messageId);
    const before = t.bot.context.store.votes(messageId);
    react("add", VOTERS[3]!, messageId);
    react("add", VOTERS[3]!, messageId);
    await votesReach(messageId, before + 1);
    expect(t.bot.context.store.votes(messageId)).toBe(before + 1);

    // A result from before a restart: the client never saw this message at all.
    const old = "400000000000000001";
    t.bot.context.store.recordResult({
      messageId: old,
      channelId: t.double.channelId,
      guildId: t.double.guildId,
      requesterId: ALICE.id,
      preset: "wave-test",
      settings: {},
      seed: 5,
      createdAt: Date.now(),
    });
    for (const voter of VOTERS) react("add", voter, old);
    react("add", VOTERS[0]!, old);
    react("add", ALICE.id, old);
    await votesReach(old, VOTERS.length);
    react("remove", VOTERS[1]!, old);
    await votesReach(old, VOTERS.length - 1);
    // Reactions on messages that are no results are nobody's business.
    react("add", VOTERS[0]!, "400000000000000999");
    react("add", VOTERS[1]!, old);
    await votesReach(old, VOTERS.length);
    expect(t.bot.context.store.result("400000000000000999")).toBeUndefined();
  });

  it("reposts a result to the hall of fame once when it reaches the threshold", async () => {
    const store = t.bot.context.store;
    const target = "400000000000000002";
    store.recordResult({
      messageId: target,
      channelId: t.double.channelId,
      guildId: t.double.guildId,
      requesterId: ALICE.id,
      preset: "wave-test",
      settings: {},
      seed: 6,
      createdAt: Date.now(),
    });
    store.updateGuildSettings(t.double.guildId, {
      hallOfFameChannelId: t.double.channelId,
      hallOfFameThreshold: 2,
    });
    const reposts = () =>
      t.double.requests.filter(
        (r) =>
          r.method === "POST" &&
          r.route === `/channels/${t.double.channelId}/messages` &&
          JSON.stringify(r.json).includes(target),
      );
    react("add", VOTERS[0]!, target);
    await votesReach(target, 1);
    react("add", VOTERS[1]!, target);
    const repost = await t.eventually(() => reposts()[0]);
    expect(JSON.stringify(repost.json)).toContain("reached **2** votes");
    react("add", VOTERS[2]!, target);
    react("remove", VOTERS[2]!, target);
    react("add", VOTERS[2]!, target);
    react("add", VOTERS[3]!, target);
    await votesReach(target, 4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reposts()).toHaveLength(1);

    // A real result message: the painting itself is re-uploaded (Discord's CDN links expire).
    const real = store.votes(messageId);
    store.updateGuildSettings(t.double.guildId, { hallOfFameThreshold: real + 1 });
    react("add", "300000000000000099", messageId);
    const withImage = await t.eventually(() =>
      t.double.requests.find(
        (r) =>
          r.method === "POST" &&
          r.route === `/channels/${t.double.channelId}/messages` &&
          JSON.stringify(r.json).includes(messageId),
      ),
    );
    expect(withImage.files.map((f) => f.name)).toEqual(["hall-of-fame.png"]);
    expect(JSON.stringify(withImage.json)).toContain("attachment://hall-of-fame.png");
    store.updateGuildSettings(t.double.guildId, {
      hallOfFameChannelId: undefined,
      hallOfFameThreshold: undefined,
    });
  });
});
