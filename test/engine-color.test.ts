import { describe, expect, it } from "vitest";
import {
  colorStats,
  luminanceImage,
  luminanceStats,
  matchColorHistogram,
  toYiq,
  withContentChroma,
} from "../src/engine/color.js";
import type { RgbImage } from "../src/engine/types.js";
import { patternImage } from "./engine-helpers.js";

/** A muted, correlated-colour image: its matched version stays inside 0..255, so no clamping blurs the check. */
function mutedImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = Math.sin(i * 0.37 + seed) * 0.5 + Math.cos(i * 0.11 * seed) * 0.5;
    data[i * 3] = 120 + 40 * t;
    data[i * 3 + 1] = 100 + 25 * Math.sin(i * 0.05 + seed * 2);
    data[i * 3 + 2] = 90 - 30 * t + 10 * Math.cos(i * 0.3);
  }
  return { data, width, height };
}

/** Warm, strongly correlated red/green, independent blue: statistics unlike mutedImage's. */
function warmImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = Math.sin(i * 0.21);
    data[i * 3] = 160 + 35 * t;
    data[i * 3 + 1] = 130 + 25 * t + 8 * Math.cos(i * 0.7);
    data[i * 3 + 2] = 60 + 20 * Math.cos(i * 0.13);
  }
  return { data, width, height };
}

describe("colour preservation", () => {
  it("histogram matching gives the style image the content's colour mean and covariance", () => {
    const content = warmImage(40, 30);
    const style = mutedImage(36, 36, 3);
    const matched = matchColorHistogram(style, content);
    const target = colorStats(content);
    const got = colorStats(matched);
    const before = colorStats(style);
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(got.mean[c]! - target.mean[c]!)).toBeLessThan(1.5);
      for (let d = 0; d < 3; d++) {
        const scale = Math.sqrt(target.cov[c]![c]! * target.cov[d]![d]!);
        expect(Math.abs(got.cov[c]![d]! - target.cov[c]![d]!) / scale).toBeLessThan(0.05);
      }
    }
    // And it really changed them: the style's own statistics were far off.
    expect(Math.abs(before.mean[0]! - target.mean[0]!)).toBeGreaterThan(5);
    expect(Math.abs(before.cov[0]![1]! - target.cov[0]![1]!)).toBeGreaterThan(200);
  });

  it("histogram matching keeps the image's structure (a monotone recolouring of a grey ramp stays a ramp)", () => {
    const ramp: RgbImage = {
      width: 16,
      height: 1,
      data: Uint8Array.from({ length: 48 }, (_, i) => 60 + Math.floor(i / 3) * 8),
    };
    const matched = matchColorHistogram(ramp, patternImage(20, 20));
    const luma = Array.from({ length: 16 }, (_, i) => toYiq(matched)[i * 3]!);
    expect(luma.every((v, i) => i === 0 || v >= luma[i - 1]! - 1)).toBe(true);
  });

  it("luminance images are grey and can take another image's luminance mean and spread", () => {
    const content = patternImage(24, 24);
    const style = mutedImage(24, 24, 1);
    const grey = luminanceImage(style, luminanceStats(content));
    for (let i = 0; i < grey.data.length; i += 3) {
      expect(grey.data[i]).toBe(grey.data[i + 1]);
      expect(grey.data[i]).toBe(grey.data[i + 2]);
    }
    const got = luminanceStats(grey);
    const want = luminanceStats(content);
    expect(got.mean).toBeCloseTo(want.mean, 0);
    expect(Math.abs(got.std - want.std)).toBeLessThan(1);
  });

  it("recombines a stylised luminance with the content's chroma", () => {
    const content = mutedImage(16, 16, 2);
    const grey = luminanceImage(patternImage(16, 16));
    const out = withContentChroma(grey, content);
    const [yOut, yGrey, yContent] = [toYiq(out), toYiq(grey), toYiq(content)];
    for (let i = 0; i < yOut.length; i += 3) {
      expect(Math.abs(yOut[i]! - yGrey[i]!)).toBeLessThan(1.5);
      expect(Math.abs(yOut[i + 1]! - yContent[i + 1]!)).toBeLessThan(1.5);
      expect(Math.abs(yOut[i + 2]! - yContent[i + 2]!)).toBeLessThan(1.5);
    }
  });
});
