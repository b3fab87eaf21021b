import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  MANAGE_SERVER,
  paintingReady,
  photoPng,
  privateReply,
  ringsPng,
  sendPreset,
  sendStylize,
  startTestBot,
  type TestBot,
} from "./bot-helpers.js";

/**
 * Community presets end to end on the loopback double: submitted, moderated, offered by autocomplete and
 * painted with by /stylize (the real engine in a worker thread).
 */

const MOD = { id: "200000000000000009", username: "mod" };

let t: TestBot;
beforeAll(async () => {
  // No cooldown between submissions here: this file is about moderation (the limits have their own tests).
  t = await startTestBot({ env: { STYLIZE_PRESET_COOLDOWN_S: "0" } });
}, 60_000);
afterAll(() => t?.close());

const preset = (
  sub: string,
  user: { id: string; username: string },
  options: Record<string, unknown>,
  member?: { permissions?: string; roles?: string[] },
) => sendPreset(t.double, sub, user, options, member);

const privateText = (sent: Parameters<typeof privateReply>[1]) => privateReply(t.double, sent);

async function styleChoices(typed: string): Promise<{ name: string; value: string }[]> {
  const callback = await t.double.sendAutocomplete({
    name: "stylize",
    user: ALICE,
    focused: "style",
    options: { style: typed } as never,
  }).response;
  return (callback.data as { choices: { name: string; value: string }[] }).choices;
}

describe("community presets", () => {
  it("a submission waits, only a moderator approves it, then autocomplete offers it and /stylize paints with it", async () => {
    const image = t.double.hostAttachment(await ringsPng(120), {
      filename: "rings.png",
      contentType: "image/png",
    });
    const added = await privateText(
      preset("add", BOB, { name: "  Rings   of Light ", image, description: "concentric" }),
    );
    expect(added).toMatch(/“Rings of Light” is waiting for a moderator/);
    const stored = t.bot.context.store.presetByName(t.double.guildId, "rings of light")!;
    expect(stored).toMatchObject({ status: "pending", submitterId: BOB.id, description: "concentric" });
    expect((await sharp(t.bot.context.store.presetImage(stored.id)!.thumbnail).metadata()).width).toBe(120);
    expect(await styleChoices("rings")).toEqual([]); // not offered while pending

    // A member without Manage Server can neither approve nor remove.
    expect(await privateText(preset("approve", BOB, { name: "Rings of Light" }))).toMatch(
      /Only members with the Manage Server permission can approve/,
    );
    expect(await privateText(preset("remove", ALICE, { name: "Rings of Light" }))).toMatch(
      /Only members with the Manage Server permission can remove/,
    );
    expect(t.bot.context.store.preset(stored.id)?.status).toBe("pending");

    expect(await privateText(preset("approve", MOD, { name: "rings of light" }, MANAGE_SERVER))).toMatch(
      /Approved “Rings of Light”/,
    );
    const key = `community:${stored.id}`;
    // /styles lists it after the built-in paintings, with its stored thumbnail.
    const styles = t.double.sendCommand({ name: "styles", user: ALICE });
    await styles.response;
    const page = await t.double.waitFor((r) => r.method === "PATCH" && r.path.includes(styles.token));
    const titles = (page.json as { embeds: { title: string }[] }).embeds.map((e) => e.title);
    expect(titles).toEqual(["Starry Test (1889)", "Wave Test (c. 1831)", "Rings of Light (community)"]);
    expect(page.files.map((f) => f.name)).toContain(`community-${stored.id}.jpg`);
    expect(await styleChoices("rings")).toEqual([
      { name: "Rings of Light (community) — concentric", value: key },
    ]);

    const sent = await sendStylize(t.double, ALICE, { style: key }, [40, 30]);
    const final = await paintingReady(t.double, sent.token);
    expect((final.json as { embeds: { title: string }[] }).embeds[0]!.title).toBe(
      "In the style of Rings of Light",
    );
    const messageId = t.double.originalResponse(sent.token)!.id;
    await t.eventually(() => t.bot.context.store.result(messageId));
    expect(t.bot.context.store.result(messageId)?.preset).toBe(key);
    expect(t.bot.context.store.preset(stored.id)?.uses).toBe(1);

    // Used and voted for: it leads the list when nothing is typed.
    t.bot.context.store.addVote(messageId, BOB.id);
    expect((await styleChoices(""))[0]!.value).toBe(key);
    // Typing the name works too, without picking from the list.
    const typed = await sendStylize(t.double, BOB, { style: "rings of light", size: 32 }, [40, 30]);
    expect((await typed.response).type).toBe(5);
    await paintingReady(t.double, typed.token);
    await t.eventually(() => t.bot.context.store.preset(stored.id)?.uses === 2);
    expect(await privateText(preset("list", ALICE, {}))).toBe(
      `**Styles**\n“Rings of Light” by <@${BOB.id}> · used 2×`,
    );
  }, 120_000);

  it("refuses near-duplicate images, taken names and bad names", async () => {
    // The same rings, smaller and as a lossy JPEG.
    const twin = t.double.hostAttachment(await ringsPng(90, "jpeg"), {
      filename: "twin.jpg",
      contentType: "image/jpeg",
    });
    expect(await privateText(preset("add", ALICE, { name: "Copy", image: twin }))).toMatch(
      /looks just like “Rings of Light”/,
    );
    const other = t.double.hostAttachment(await photoPng(64, 64), {
      filename: "o.png",
      contentType: "image/png",
    });
    expect(await privateText(preset("add", ALICE, { name: "RINGS OF LIGHT", image: other }))).toMatch(
      /already has a style called “RINGS OF LIGHT”/,
    );
    expect(await privateText(preset("add", ALICE, { name: "Starry Test", image: other }))).toMatch(
      /one of the built-in styles/,
    );
    expect(await privateText(preset("add", ALICE, { name: "<@everyone>", image: other }))).toMatch(
      /Use letters/,
    );
    const text = t.double.hostAttachment(Buffer.from("not an image"), {
      filename: "x.png",
      contentType: "image/png",
    });
    expect(await privateText(preset("add", ALICE, { name: "Text", image: text }))).toMatch(
      /isn't an image I can read/,
    );
    expect(t.bot.context.store.presets(t.double.guildId).map((p) => p.name)).toEqual(["Rings of Light"]);
  });

  it("a configured moderator role may moderate; rename and remove take effect in autocomplete", async () => {
    const roleId = "700000000000000001";
    t.double.dispatch("GUILD_ROLE_CREATE", {
      guild_id: t.double.guildId,
      role: {
        id: roleId,
        name: "Curators",
        permissions: "0",
        position: 2,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
    });
    await t.eventually(() => t.bot.client.guilds.cache.get(t.double.guildId)?.roles.cache.has(roleId));
    t.bot.context.store.updateGuildSettings(t.double.guildId, { moderatorRoleId: roleId });
    const curator = { roles: [roleId] };
    expect(await privateText(preset("rename", ALICE, { name: "Rings of Light", new_name: "Halo" }))).toMatch(
      /Only members with Manage Server or the <@&700000000000000001> role/,
    );
    expect(
      await privateText(preset("rename", BOB, { name: "Rings of Light", new_name: "Halo" }, curator)),
    ).toBe("Renamed “Rings of Light” to “Halo”.");
    expect((await styleChoices("halo")).map((c) => c.name)).toEqual(["Halo (community) — concentric"]);
    expect(await privateText(preset("remove", BOB, { name: "halo" }, curator))).toMatch(/Removed “Halo”/);
    expect(await styleChoices("halo")).toEqual([]);
  });

  it("auto-approves when the guild enabled it", async () => {
    t.bot.context.store.updateGuildSettings(t.double.guildId, { autoApprove: true });
    const image = t.double.hostAttachment(await photoPng(64, 64), {
      filename: "r.png",
      contentType: "image/png",
    });
    expect(await privateText(preset("add", ALICE, { name: "Second Rings", image }))).toMatch(
      /Added “Second Rings” — everyone here can use it now/,
    );
    expect((await styleChoices("second")).map((c) => c.name)).toEqual(["Second Rings (community)"]);
  });
});
