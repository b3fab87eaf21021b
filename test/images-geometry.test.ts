import { describe, expect, it } from "vitest";
import { fitWithin, resizeImage, scaleToLongEdge } from "../src/images/index.js";
import { BLUE, expectPixelNear, RED, solidImage, twoToneImage } from "./images-fixtures.js";

describe("scaleToLongEdge", () => {
  it("sets the long edge exactly and keeps the aspect ratio", () => {
    expect(scaleToLongEdge(1024, 768, 512)).toEqual({ width: 512, height: 384 });
    expect(scaleToLongEdge(768, 1024, 512)).toEqual({ width: 384, height: 512 });
    expect(scaleToLongEdge(100, 50, 300)).toEqual({ width: 300, height: 150 });
  });

  it("rounds to whole pixels, never below 1", () => {
    expect(scaleToLongEdge(1000, 333, 100)).toEqual({ width: 100, height: 33 });
    expect(scaleToLongEdge(1000, 335, 100)).toEqual({ width: 100, height: 34 });
    expect(scaleToLongEdge(10_000, 1, 100)).toEqual({ width: 100, height: 1 });
    expect(scaleToLongEdge(640, 480, 0.4)).toEqual({ width: 1, height: 1 });
  });

  it("rejects sizes that are not positive numbers", () => {
    expect(() => scaleToLongEdge(0, 10, 10)).toThrow(RangeError);
    expect(() => scaleToLongEdge(10, Number.NaN, 10)).toThrow(RangeError);
    expect(() => scaleToLongEdge(10, 10, -1)).toThrow(RangeError);
  });
});

describe("fitWithin", () => {
  it("shrinks sizes that are too big", () => {
    expect(fitWithin(4000, 3000, 1000)).toEqual({ width: 1000, height: 750 });
    expect(fitWithin(3000, 4000, 1000)).toEqual({ width: 750, height: 1000 });
  });

  it("never enlarges", () => {
    expect(fitWithin(100, 50, 300)).toEqual({ width: 100, height: 50 });
    expect(fitWithin(300, 50, 300)).toEqual({ width: 300, height: 50 });
  });

  it("rejects sizes that are not positive numbers", () => {
    expect(() => fitWithin(-5, 10, 100)).toThrow(RangeError);
    expect(() => fitWithin(10, 10, 0)).toThrow(RangeError);
  });
});

describe("resizeImage", () => {
  it("resamples to the exact size, keeping colours where they were", async () => {
    const resized = await resizeImage(twoToneImage(200, 100, RED, BLUE), 50, 30);
    expect([resized.width, resized.height, resized.data.length]).toEqual([50, 30, 50 * 30 * 3]);
    expectPixelNear(resized, 5, 15, RED, 1);
    expectPixelNear(resized, 45, 15, BLUE, 1);
  });

  it("can enlarge", async () => {
    const resized = await resizeImage(solidImage(20, 10, RED), 80, 40);
    expect(resized.data.length).toBe(80 * 40 * 3);
    expectPixelNear(resized, 40, 20, RED, 1);
  });

  it("returns the same image when the size already matches", async () => {
    const image = solidImage(20, 10, RED);
    expect(await resizeImage(image, 20, 10)).toBe(image);
  });

  it("rejects malformed images and sizes", async () => {
    const image = solidImage(20, 10, RED);
    await expect(resizeImage({ ...image, width: 21 }, 10, 5)).rejects.toThrow(/data has 600 bytes/);
    await expect(resizeImage(image, 0, 5)).rejects.toThrow(RangeError);
    await expect(resizeImage(image, 10.5, 5)).rejects.toThrow(RangeError);
  });
});
