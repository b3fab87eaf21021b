import { describe, expect, it } from "vitest";
import { buildCommand, parseCliArgs, parseStyleArg } from "../src/cli/args.js";

/** A command whose errors throw instead of exiting the test process. */
function quietCommand() {
  return buildCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
}

const base = ["--content", "photo.jpg", "--style", "art.jpg", "--out", "out.png"];

describe("stylize CLI arguments", () => {
  it("applies the documented defaults", () => {
    const req = parseCliArgs(base, quietCommand());
    expect(req).toMatchObject({
      content: "photo.jpg",
      styles: [{ path: "art.jpg", weight: 1 }],
      out: "out.png",
      quality: "balanced",
      size: 512,
      strength: 0.5,
      colorMode: "none",
      init: "content",
      seed: undefined,
      optimizer: "lbfgs",
      pooling: "avg",
    });
  });

  it("blends several styles with weights and keeps colons inside paths", () => {
    const req = parseCliArgs([...base, "--style", "b.jpg:0.3", "--style", "C:/x/y.jpg"], quietCommand());
    expect(req.styles).toEqual([
      { path: "art.jpg", weight: 1 },
      { path: "b.jpg", weight: 0.3 },
      { path: "C:/x/y.jpg", weight: 1 },
    ]);
  });

  it("parses every engine option", () => {
    const req = parseCliArgs(
      [
        ...base,
        "--preset",
        "hq",
        "--size",
        "768",
        "--strength",
        "0.8",
        "--preserve-colors",
        "--init",
        "noise",
        "--seed",
        "42",
        "--optimizer",
        "lbfgs",
        "--pooling",
        "max",
        "--style-layers",
        "relu1_1,relu2_1",
        "--frames",
        "frames",
      ],
      quietCommand(),
    );
    expect(req).toMatchObject({
      quality: "hq",
      size: 768,
      strength: 0.8,
      colorMode: "luminance",
      init: "noise",
      seed: 42,
      optimizer: "lbfgs",
      pooling: "max",
      styleLayers: ["relu1_1", "relu2_1"],
      framesDir: "frames",
    });
  });

  it.each([
    [["--size", "10"], /--size must be a whole number from 32 to 4096/],
    [["--size", "abc"], /--size must be a whole number/],
    [["--strength", "2"], /--strength must be a number from 0 to 1/],
    [["--seed", "1.5"], /--seed must be a whole number/],
    [["--optimizer", "sgd"], /Allowed choices are adam, lbfgs/],
    [["--preset", "ultra"], /Allowed choices are fast, balanced, hq/],
    [["--style-layers", "relu1_1;x"], /layers must look like relu1_1,relu2_1/],
    [["--style", "art.jpg:0"], /must be greater than 0/],
  ])("rejects %j with a clear message", (extra, message) => {
    expect(() => parseCliArgs([...base, ...extra], quietCommand())).toThrow(message);
  });

  it("names a missing required option", () => {
    expect(() => parseCliArgs(["--content", "a.jpg", "--out", "o.png"], quietCommand())).toThrow(/--style/);
  });

  it("splits a weight off only when it is a number", () => {
    expect(parseStyleArg("a.jpg:0.25")).toEqual([{ path: "a.jpg", weight: 0.25 }]);
    expect(parseStyleArg("dir:name/a.jpg")).toEqual([{ path: "dir:name/a.jpg", weight: 1 }]);
  });
});
