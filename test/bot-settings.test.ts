import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  MANAGE_SERVER,
  react,
  repostsOf,
  sendStylize,
  startTestBot,
  storeResult,
  type TestBot,
} from "./bot-helpers.js";

/** /settings on the loopback double, and the settings taking effect: votes, hall of fame, job rules. */

const ADMIN = { id: "200000000000000009", username: "admin" };
const VOTERS = ["300000000000000001", "300000000000000002", "300000000000000003"];
const ELSEWHERE = "800000000000000001";

let t: TestBot;
beforeAll(async () => {
  // Long jobs, so a member's first job is still running when the second is asked for.
  t = await startTestBot({ engine: { scales: 1, stepsPerScale: 100_000 } });
}, 60_000);
afterAll(() => t?.close());

async function settings(
  sub: string,
  options: Record<string, unknown> = {},
  user = ADMIN,
  member: { permissions?: string } = MANAGE_SERVER,
): Promise<string> {
  const callback = await t.double.sendCommand({
    name: "settings",
    user,
    member,
    options: [
      { name: sub, type: 1, options: Object.entries(options).map(([name, value]) => ({ name, value })) },
    ],
  } as never).response;
  expect(Number(callback.data?.flags) & 64).toBe(64);
  return String(callback.data?.content);
}

const stylize = () => sendStylize(t.double, ALICE, { style: "starry-test", size: 32 }, [40, 30]);

describe("/settings", () => {
  it("is for Manage Server only, and shows the defaults", async () => {
    expect(await settings("set", { auto_approve: true }, ALICE, {})).toMatch(
      /Only members with the Manage Server permission/,
    );
    expect(t.bot.context.store.guildSettings(t.double.guildId).autoApprove).toBe(false);
    const shown = await settings("show");
    expect(shown).toContain("Vote emoji: ⭐ (default)");
    expect(shown).toContain("Hall of fame: off");
    expect(shown).toContain("Jobs per member: 2 (the bot's limit)");
  });

  it("validates what it is given", async () => {
    expect(await settings("set", { vote_emoji: "star" })).toMatch(/isn't an emoji I can count/);
    expect(await settings("set", { per_user_limit: 5 })).toMatch(/at most 2 jobs per member/);
    expect(await settings("set", { allowed_channels: "#art, bots" })).toMatch(/List channels as mentions/);
    expect(await settings("set")).toMatch(/Pick at least one setting/);
  });

  it("vote emoji and hall of fame: a result reaching the threshold is reposted once", async () => {
    const shown = await settings("set", {
      vote_emoji: "🎨",
      hall_of_fame_channel: t.double.channelId,
      hall_of_fame_threshold: 2,
    });
    expect(shown).toContain("Vote emoji: 🎨");
    expect(shown).toContain(`Hall of fame: <#${t.double.channelId}> at 2 votes`);
    const target = "400000000000000002";
    storeResult(t, { messageId: target, preset: "wave-test", seed: 6 });
    const reposts = () => repostsOf(t.double, target);
    react(t.double, "add", VOTERS[0]!, target, "⭐"); // no longer the vote emoji
    react(t.double, "add", VOTERS[0]!, target, "🎨");
    await t.eventually(() => t.bot.context.store.votes(target) === 1);
    react(t.double, "add", VOTERS[1]!, target, "🎨");
    react(t.double, "add", VOTERS[2]!, target, "🎨");
    await t.eventually(() => t.bot.context.store.votes(target) === 3 && reposts().length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reposts()).toHaveLength(1);
    expect(JSON.stringify(reposts()[0]!.json)).toContain("reached **2** votes");
  });

  it("allowed channels and a lower per-member job limit apply to /stylize", async () => {
    expect(await settings("set", { allowed_channels: `<#${ELSEWHERE}>` })).toContain(
      `works in: <#${ELSEWHERE}>`,
    );
    const outside = await stylize();
    const refused = await outside.response;
    expect(refused.type).toBe(4);
    expect(String(refused.data?.content)).toMatch(new RegExp(`I paint in <#${ELSEWHERE}>`));

    expect(await settings("clear", { setting: "allowed_channels" })).toContain("works in: every channel");
    expect(await settings("set", { per_user_limit: 1 })).toContain("Jobs per member: 1");
    const first = await stylize();
    expect((await first.response).type).toBe(5);
    await expect.poll(async () => (await t.bot.jobs.status(ALICE.id)).jobs.length).toBe(1);
    const second = await (await stylize()).response;
    expect(second.type).toBe(4);
    expect(String(second.data?.content)).toMatch(/1 job/);
    await settings("clear", { setting: "per_user_limit" });
  });
});
