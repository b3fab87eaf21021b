import type { TextChannel } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  react,
  repostsOf,
  sendStylize,
  startTestBot,
  storeResult,
  type TestBot,
} from "./bot-helpers.js";

/**
 * Reaction votes end to end: a real result delivered by /stylize on the loopback double, then raw
 * MESSAGE_REACTION_ADD / REMOVE dispatches as Discord sends them, on cached and uncached messages.
 */

const VOTERS = ["300000000000000001", "300000000000000002", "300000000000000003", "300000000000000004"];

let t: TestBot;
let messageId: string;

beforeAll(async () => {
  t = await startTestBot();
  messageId = await stylizeAndWait();
}, 120_000);
afterAll(() => t?.close());

async function stylizeAndWait(): Promise<string> {
  const sent = await sendStylize(t.double, ALICE, { style: "starry-test", size: 32 }, [40, 30]);
  await sent.response;
  const id = t.double.originalResponse(sent.token)?.id;
  return t.eventually(() => (id && t.bot.context.store.result(id) ? id : undefined), 60_000);
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
    react(t.double, "add", VOTERS[0]!, messageId);
    react(t.double, "add", VOTERS[0]!, messageId); // a repeated event
    react(t.double, "add", VOTERS[1]!, messageId);
    await votesReach(messageId, 2);
    react(t.double, "add", VOTERS[2]!, messageId, "👍"); // not the vote emoji
    react(t.double, "add", VOTERS[2]!, messageId, "⭐\uFE0F"); // same star, other encoding
    await votesReach(messageId, 3);
    react(t.double, "remove", VOTERS[0]!, messageId);
    react(t.double, "remove", VOTERS[0]!, messageId);
    await votesReach(messageId, 2);
    react(t.double, "add", VOTERS[0]!, messageId);
    await votesReach(messageId, 3);
  });

  it("ignore the requester's and the bot's own reactions", async () => {
    const before = t.bot.context.store.votes(messageId);
    react(t.double, "add", ALICE.id, messageId);
    react(t.double, "add", t.double.botUserId, messageId);
    react(t.double, "add", VOTERS[3]!, messageId); // the marker: handled after the two above
    await votesReach(messageId, before + 1);
    react(t.double, "remove", VOTERS[3]!, messageId);
    await votesReach(messageId, before);
  });

  it("count on messages discord.js has not cached (partials)", async () => {
    const channel = t.bot.client.channels.cache.get(t.double.channelId) as TextChannel;
    channel.messages.cache.delete(messageId);
    const before = t.bot.context.store.votes(messageId);
    react(t.double, "add", VOTERS[3]!, messageId);
    react(t.double, "add", VOTERS[3]!, messageId);
    await votesReach(messageId, before + 1);
    expect(t.bot.context.store.votes(messageId)).toBe(before + 1);

    // A result from before a restart: the client never saw this message at all.
    const old = "400000000000000001";
    storeResult(t, { messageId: old, preset: "wave-test", seed: 5 });
    for (const voter of VOTERS) react(t.double, "add", voter, old);
    react(t.double, "add", VOTERS[0]!, old);
    react(t.double, "add", ALICE.id, old);
    await votesReach(old, VOTERS.length);
    react(t.double, "remove", VOTERS[1]!, old);
    await votesReach(old, VOTERS.length - 1);
    // Reactions on messages that are no results are nobody's business.
    react(t.double, "add", VOTERS[0]!, "400000000000000999");
    react(t.double, "add", VOTERS[1]!, old);
    await votesReach(old, VOTERS.length);
    expect(t.bot.context.store.result("400000000000000999")).toBeUndefined();
  });

  it("reposts a result to the hall of fame once when it reaches the threshold", async () => {
    const store = t.bot.context.store;
    const target = "400000000000000002";
    storeResult(t, { messageId: target, preset: "wave-test", seed: 6 });
    store.updateGuildSettings(t.double.guildId, {
      hallOfFameChannelId: t.double.channelId,
      hallOfFameThreshold: 2,
    });
    const reposts = () => repostsOf(t.double, target);
    react(t.double, "add", VOTERS[0]!, target);
    await votesReach(target, 1);
    react(t.double, "add", VOTERS[1]!, target);
    const repost = await t.eventually(() => reposts()[0]);
    expect(JSON.stringify(repost.json)).toContain("reached **2** votes");
    react(t.double, "add", VOTERS[2]!, target);
    react(t.double, "remove", VOTERS[2]!, target);
    react(t.double, "add", VOTERS[2]!, target);
    react(t.double, "add", VOTERS[3]!, target);
    await votesReach(target, 4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reposts()).toHaveLength(1);

    // A real result message: the painting itself is re-uploaded (Discord's CDN links expire).
    const real = store.votes(messageId);
    store.updateGuildSettings(t.double.guildId, { hallOfFameThreshold: real + 1 });
    react(t.double, "add", "300000000000000099", messageId);
    const withImage = await t.eventually(() => repostsOf(t.double, messageId)[0]);
    expect(withImage.files.map((f) => f.name)).toEqual(["hall-of-fame.png"]);
    expect(JSON.stringify(withImage.json)).toContain("attachment://hall-of-fame.png");
    store.updateGuildSettings(t.double.guildId, {
      hallOfFameChannelId: undefined,
      hallOfFameThreshold: undefined,
    });
  });
});
