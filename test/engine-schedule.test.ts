import { describe, expect, it } from "vitest";
import {
  DEFAULT_LOSS_WEIGHTS,
  defaultStylizeOptions,
  resolveOptions,
  styleWeightForStrength,
} from "../src/engine/options.js";
import { resampleImage } from "../src/engine/resample.js";
import { fitLongEdge, PLATEAU_WINDOW, Plateau, planScales, QUALITY_PRESETS } from "../src/engine/schedule.js";
import { patternImage, stripesImage } from "./engine-helpers.js";

describe("schedule", () => {
  it("climbs by √2 to the requested size; presets fix the number of scales and steps", () => {
    const photo = { width: 1600, height: 1200 };
    const edges = (quality: keyof typeof QUALITY_PRESETS) =>
      planScales(photo, 512, QUALITY_PRESETS[quality]).map((s) => Math.max(s.width, s.height));
    expect(edges("fast")).toEqual([362, 512]);
    expect(edges("balanced")).toEqual([256, 362, 512]);
    expect(edges("hq")).toEqual([181, 256, 362, 512]);
    const last = planScales(photo, 512, QUALITY_PRESETS.balanced).at(-1)!;
    expect(last).toEqual({ width: 512, height: 384, steps: QUALITY_PRESETS.balanced.stepsPerScale });
  });

  it("never goes below 64 px (or half of a small size) nor below what the deepest layer needs", () => {
    expect(
      planScales({ width: 100, height: 100 }, 128, { scales: 10, stepsPerScale: 1 }).map((s) => s.width),
    ).toEqual([64, 91, 128]);
    expect(
      planScales({ width: 40, height: 40 }, 40, { scales: 10, stepsPerScale: 1 }).map((s) => s.width),
    ).toEqual([20, 28, 40]);
    // A 4:1 panorama: relu5_1 needs 16 px on the short edge.
    const wide = planScales({ width: 400, height: 100 }, 128, { scales: 5, stepsPerScale: 1 }, 16);
    expect(wide.map((s) => [s.width, s.height])).toEqual([
      [64, 16],
      [91, 23],
      [128, 32],
    ]);
    expect(() => planScales({ width: 400, height: 100 }, 40, { scales: 5, stepsPerScale: 1 }, 16)).toThrow(
      /40×10 output is too small .* at least 16 px/,
    );
  });

  it("leaves out the scales a finished starting picture already covers (HD refining a result)", () => {
    const photo = { width: 1600, height: 1200 };
    const edges = (startEdge: number) =>
      planScales(photo, 1024, QUALITY_PRESETS.balanced, 1, startEdge).map((s) => Math.max(s.width, s.height));
    expect(edges(0)).toEqual([512, 724, 1024]);
    // From a 512 px result only the larger scales run; from one as large as the output, the last alone.
    expect(edges(512)).toEqual([724, 1024]);
    expect(edges(600)).toEqual([724, 1024]);
    expect(edges(1024)).toEqual([1024]);
  });

  it("finds a plateau when the loss falls by less than the tolerance per step over the window", () => {
    const feed = (tolerance: number, losses: number[]) => {
      const plateau = new Plateau(tolerance);
      return losses.findIndex((l) => plateau.reached(l));
    };
    // 1% per step against a tolerance of 0.5%: never flat. Then 0.1% per step: flat as soon as the window
    // (steps 17 → 22: 2% + 0.3%) falls under 5 × 0.5%.
    const falling = Array.from({ length: 20 }, (_, i) => 1000 * 0.99 ** i);
    const slowing = [...falling, ...Array.from({ length: 20 }, (_, i) => falling.at(-1)! * 0.999 ** (i + 1))];
    expect(feed(0.005, falling)).toBe(-1);
    expect(feed(0.005, slowing)).toBe(22);
    // Not before a whole window; a rising loss is flat too; 0 never stops.
    expect(feed(0.005, [5, 5, 5, 5, 5, 5])).toBe(PLATEAU_WINDOW);
    expect(feed(0.005, [5, 4, 3, 2, 1, 9])).toBe(PLATEAU_WINDOW);
    expect(feed(0, [5, 5, 5, 5, 5, 5, 5, 5])).toBe(-1);
  });

  it("fits the long edge while keeping the aspect ratio", () => {
    expect(fitLongEdge(1600, 1200, 512)).toEqual({ width: 512, height: 384 });
    expect(fitLongEdge(300, 1000, 100)).toEqual({ width: 30, height: 100 });
  });
});

describe("options", () => {
  const images = { content: patternImage(20, 20), styles: [{ image: stripesImage(20, 20), weight: 1 }] };

  it("fills defaults, the preset's schedule and a seed; idempotent", () => {
    const o = resolveOptions(images);
    expect(o).toMatchObject({ ...defaultStylizeOptions, ...QUALITY_PRESETS.balanced });
    expect(o.styleWeight).toBeCloseTo(DEFAULT_LOSS_WEIGHTS.style, 6);
    expect(Number.isInteger(o.seed)).toBe(true);
    expect(resolveOptions(o)).toEqual(o);
    // A step count asked for is run in full, unless a tolerance is asked for too.
    expect(resolveOptions({ ...images, quality: "fast", stepsPerScale: 7 })).toMatchObject({
      scales: 2,
      stepsPerScale: 7,
      tolerance: 0,
    });
    expect(resolveOptions({ ...images, stepsPerScale: 7, tolerance: 0.01 }).tolerance).toBe(0.01);
    expect(resolveOptions({ ...images, quality: "hq" }).tolerance).toBe(QUALITY_PRESETS.hq.tolerance);
    expect(() => resolveOptions({ ...images, tolerance: 1 })).toThrow(/tolerance must be from 0/);
  });

  it("maps strength to the style weight on a log scale, 0.5 being the preset's balance", () => {
    expect(styleWeightForStrength(0.5)).toBeCloseTo(DEFAULT_LOSS_WEIGHTS.style, 6);
    expect(styleWeightForStrength(1) / styleWeightForStrength(0.5)).toBeCloseTo(10 ** 1.5, 6);
    expect(styleWeightForStrength(0.75) / styleWeightForStrength(0.5)).toBeCloseTo(
      styleWeightForStrength(0.5) / styleWeightForStrength(0.25),
      6,
    );
    // An explicit style weight wins over strength.
    expect(resolveOptions({ ...images, strength: 1, styleWeight: 3 }).styleWeight).toBe(3);
  });
});

describe("resample", () => {
  it("keeps flat colours exactly and averages detail away when shrinking", () => {
    const flat = resampleImage({ width: 9, height: 7, data: new Uint8Array(9 * 7 * 3).fill(77) }, 4, 3);
    expect([...new Set(flat.data)]).toEqual([77]);
    // One-pixel stripes average to their mean instead of aliasing into stripes.
    const stripes = stripesImage(60, 60, [200, 200, 200], [0, 0, 0]);
    const small = resampleImage(stripes, 10, 10);
    const values = [...small.data];
    expect(Math.max(...values) - Math.min(...values)).toBeLessThan(40);
    expect(resampleImage(stripes, 60, 60)).toBe(stripes);
  });
});
