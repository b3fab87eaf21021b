import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { parseChannelList, parseVoteEmoji, SettingsError } from "../src/bot/settings.js";
import { isVoteEmoji } from "../src/bot/votes.js";
import { differenceHash, hammingDistance } from "../src/images/index.js";
import { toRgbImage } from "../src/images/raw.js";
import { photoPng } from "./bot-helpers.js";

describe("settings input", () => {
  it("takes one unicode or custom emoji, nothing else", () => {
    for (const emoji of [
      "⭐",
      "⭐️",
      "👍🏽",
      "👨‍👩‍👧",
      "🇫🇷",
      "<:art:123456789012345678>",
      "<a:spin:123456789012345678>",
    ]) {
      expect(parseVoteEmoji(` ${emoji} `)).toBe(emoji);
    }
    for (const bad of ["star", "⭐⭐", "", "<:art:12>", "a⭐"]) {
      expect(() => parseVoteEmoji(bad)).toThrow(SettingsError);
    }
  });

  it("matches reactions to the configured emoji by id for custom ones, ignoring variation selectors", () => {
    expect(isVoteEmoji({ id: null, name: "⭐\uFE0F" }, "⭐")).toBe(true);
    expect(isVoteEmoji({ id: null, name: "👍" }, "⭐")).toBe(false);
    expect(isVoteEmoji({ id: "123456789012345678", name: "renamed" }, "<:art:123456789012345678>")).toBe(
      true,
    );
    expect(isVoteEmoji({ id: "999999999999999999", name: "art" }, "<:art:123456789012345678>")).toBe(false);
  });

  it("reads channel lists as mentions or ids; all or empty = everywhere", () => {
    expect(parseChannelList("<#123456789012345678>, 223456789012345678 <#123456789012345678>")).toEqual([
      "123456789012345678",
      "223456789012345678",
    ]);
    expect(parseChannelList(" all ")).toEqual([]);
    expect(() => parseChannelList("#art")).toThrow(SettingsError);
  });
});

describe("difference hash", () => {
  it("keeps a re-encoded, resized copy within a few bits and a different picture far away", async () => {
    const photo = await toRgbImage(sharp(await photoPng(120, 90)).removeAlpha());
    const copy = await toRgbImage(
      sharp(
        await sharp(await photoPng(120, 90))
          .resize(70)
          .jpeg({ quality: 60 })
          .toBuffer(),
      ).removeAlpha(),
    );
    const flipped = await toRgbImage(
      sharp(await photoPng(120, 90))
        .flop()
        .removeAlpha(),
    );
    const [a, b, c] = await Promise.all([photo, copy, flipped].map(differenceHash));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(a!, b!)).toBeLessThanOrEqual(6);
    expect(hammingDistance(a!, c!)).toBeGreaterThan(6);
    expect(hammingDistance("ffffffffffffffff", "0000000000000000")).toBe(64);
  });
});
