import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leaderboard } from "../src/bot/rankings.js";
import type { Store } from "../src/store/index.js";
import { ALICE, BOB, startTestBot, storeResult, type TestBot } from "./bot-helpers.js";
import type { RecordedRequest } from "./discord-double/index.js";

/** /leaderboard and /favourites on the loopback double, over results and votes placed in the store. */

const DAY = 24 * 60 * 60 * 1000;

let t: TestBot;
let store: Store;

beforeAll(async () => {
  t = await startTestBot();
  store = t.bot.context.store;
  const now = Date.now();
  // old: made 40 days ago, 3 votes then and 2 this week; mid: 10 days ago, 4 votes then; fresh: 1 vote today.
  const results = [
    { id: "500000000000000001", preset: "wave-test", age: 40, votes: [40, 40, 40, 1, 1] },
    { id: "500000000000000002", preset: "starry-test", age: 10, votes: [10, 10, 10, 10] },
    { id: "500000000000000003", preset: "starry-test", age: 1, votes: [0] },
  ];
  for (const r of results) {
    storeResult(t, { messageId: r.id, preset: r.preset, seed: r.age, createdAt: now - r.age * DAY });
    for (const [i, age] of r.votes.entries()) {
      store.addVote(r.id, `30000000000000000${i}`, now - age * DAY - i * 1000);
    }
  }
  // Bob starred seven old results, one a minute apart, long ago: his favourites span two pages.
  for (let i = 0; i < 7; i++) {
    const id = `60000000000000000${i}`;
    storeResult(t, { messageId: id, preset: "starry-test", seed: 100 + i, createdAt: now - 100 * DAY });
    store.addVote(id, BOB.id, now - 100 * DAY + i * 60_000);
  }
}, 60_000);
afterAll(() => t?.close());

interface Embed {
  title: string;
  url?: string;
  description: string;
  footer?: { text: string };
  thumbnail?: { url: string };
}

async function reply(sent: { token: string; response: Promise<unknown> }): Promise<RecordedRequest> {
  await sent.response;
  return t.double.waitFor((r) => r.method === "PATCH" && r.path.includes(sent.token), { timeoutMs: 10_000 });
}

const embedsOf = (request: RecordedRequest) => (request.json as { embeds: Embed[] }).embeds;

async function board(board: string, period: string): Promise<Embed[]> {
  return embedsOf(
    await reply(t.double.sendCommand({ name: "leaderboard", user: BOB, options: { board, period } })),
  );
}

describe("/leaderboard", () => {
  it("ranks results made in the period by their votes", async () => {
    const seeds = async (period: string) =>
      (await board("results", period)).map((e) => [e.title, e.footer?.text]);
    expect(await seeds("week")).toEqual([["#1 · 1 ⭐", "seed 1"]]);
    expect(await seeds("month")).toEqual([
      ["#1 · 4 ⭐", "seed 10"],
      ["#2 · 1 ⭐", "seed 1"],
    ]);
    // Bob's seven one-vote favourites rank after, earliest first.
    expect((await seeds("all")).slice(0, 3)).toEqual([
      ["#1 · 5 ⭐", "seed 40"],
      ["#2 · 4 ⭐", "seed 10"],
      ["#3 · 1 ⭐", "seed 100"],
    ]);
    const top = (await board("results", "all"))[0]!;
    expect(top.url).toBe(
      `https://discord.com/channels/${t.double.guildId}/${t.double.channelId}/500000000000000001`,
    );
    expect(top.description).toContain(`<@${ALICE.id}> · Wave Test · 5 votes`);
  });

  it("ranks presets by the votes cast in the period, with thumbnails", async () => {
    const titles = async (period: string) => (await board("presets", period)).map((e) => e.title);
    expect(await titles("week")).toEqual(["#1 · Wave Test", "#2 · Starry Test"]); // 2 votes vs 1
    expect(await titles("month")).toEqual(["#1 · Starry Test", "#2 · Wave Test"]); // 5 vs 2
    expect(await titles("all")).toEqual(["#1 · Starry Test", "#2 · Wave Test"]); // 5 + Bob's 7 vs 5
    const [first] = await board("presets", "week");
    expect(first!.description).toMatch(/^2 ⭐ · used 0× this week/);
    expect(first!.thumbnail?.url).toMatch(/preset-1\.jpg/);
  });

  it("shows the guild's vote emoji, and says so when nothing was voted for", async () => {
    store.updateGuildSettings(t.double.guildId, { voteEmoji: "🎨" });
    try {
      const week = await board("results", "week");
      expect(week[0]!.title).toBe("#1 · 1 🎨");
      const empty = await leaderboard(t.bot.client, t.bot.context, "999999999999999999", "presets", "all");
      expect(empty.embeds).toEqual([]);
      expect(empty.content).toMatch(/Nothing yet — react with ⭐/);
    } finally {
      store.updateGuildSettings(t.double.guildId, { voteEmoji: "⭐" });
    }
  });
});

describe("/favourites", () => {
  it("pages a member's starred results, newest vote first, privately", async () => {
    const sent = t.double.sendCommand({ name: "favourites", user: BOB });
    const callback = (await sent.response) as { type: number; data?: { flags?: number } };
    expect(Number(callback.data?.flags) & 64).toBe(64);
    const first = await reply(sent);
    expect((first.json as { content: string }).content).toBe("**Your favourites** (7)");
    expect(embedsOf(first).map((e) => e.footer?.text)).toEqual([
      "seed 106",
      "seed 105",
      "seed 104",
      "seed 103",
      "seed 102",
    ]);
    const messageId = t.double.originalResponse(sent.token)!.id;
    const click = t.double.clickButton({ customId: "favourites:1", messageId, user: BOB });
    expect((await click.response).type).toBe(6);
    const second = await t.double.waitFor((r) => r.method === "PATCH" && r.path.includes(click.token));
    expect(embedsOf(second).map((e) => e.footer?.text)).toEqual(["seed 101", "seed 100"]);

    const none = await reply(t.double.sendCommand({ name: "favourites", user: ALICE }));
    expect((none.json as { content: string }).content).toMatch(/haven't voted for any painting/);
  });
});
