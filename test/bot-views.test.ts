import { describe, expect, it } from "vitest";
import { clampStrength, describeStrength, STRENGTH_STEP } from "../src/bot/job.js";
import { stopText } from "../src/bot/job-reply.js";
import { changeText, progressBar, progressText } from "../src/bot/views.js";
import { formatDuration } from "../src/duration.js";

describe("progress text", () => {
  it("draws a 20-cell bar with the percentage, clamped to 0..100", () => {
    expect(progressBar(0)).toBe(`${"░".repeat(20)} 0%`);
    expect(progressBar(0.5)).toBe(`${"█".repeat(10)}${"░".repeat(10)} 50%`);
    expect(progressBar(1.7)).toBe(`${"█".repeat(20)} 100%`);
  });

  it("says in plain words how far the painting is and how long is left", () => {
    const text = progressText(0.412, 95_000);
    expect(text).toBe(`\`${"█".repeat(8)}${"░".repeat(12)} 41%\`\nPainting — about 1 min 35 s left`);
  });

  it("formats durations for people", () => {
    expect(formatDuration(4_400)).toBe("4 s");
    expect(formatDuration(61_000)).toBe("1 min 01 s");
    expect(formatDuration(3 * 3_600_000 + 5 * 60_000)).toBe("3 h 05 min");
    expect(formatDuration(Number.NaN)).toBe("unknown");
  });
});

describe("strength", () => {
  it("names the command's choices and steps within bounds", () => {
    expect(describeStrength(0.75)).toBe("strong");
    expect(describeStrength(0.65)).toBe("65%");
    expect(clampStrength(0.5 + STRENGTH_STEP)).toBe(0.65);
    expect(clampStrength(0.9 + STRENGTH_STEP)).toBe(0.95);
    expect(clampStrength(0.1 - STRENGTH_STEP)).toBe(0.05);
  });
});

describe("what changed, and advice", () => {
  // A job stored before the presets were merged still carries its quality; nothing shows it.
  const before = {
    presetId: "starry",
    strength: 0.5,
    quality: "hq",
    size: 256,
    preserveColors: false,
    seed: 7,
  } as const;
  const hd = { id: "j2", userId: "u", settings: { ...before, size: 512 } };

  it("says HD repainted the same picture larger when it started from the result, larger otherwise", () => {
    expect(
      changeText({ job: { ...hd, initBlob: "result" }, preset: undefined, parentSettings: before }),
    ).toBe("HD: the same picture, repainted at 512 px (was 256 px)");
    expect(changeText({ job: hd, preset: undefined, parentSettings: before })).toBe(
      "Larger: 512 px (was 256 px)",
    );
    expect(changeText({ job: hd, preset: undefined })).toBeUndefined();
  });

  it("advises a smaller size, not a quality members can no longer choose, after a time-out", () => {
    const text = stopText("u", "timed_out", undefined);
    expect(text).toBe("Sorry <@u> — the painting took too long. Try a smaller size.");
  });
});
