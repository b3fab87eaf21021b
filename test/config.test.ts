import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadEngineConfig } from "../src/config.js";
import { BACKEND_ORDER } from "../src/engine/index.js";
import { defaultModelsDir, vgg19WeightsFile } from "../src/models/paths.js";

/** The message of the ConfigError `load` throws (fails the test if it throws nothing or something else). */
function configError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("loadEngineConfig (the part the CLI and npm run models load)", () => {
  it("defaults to the fastest backend, auto threads and the weights npm run models downloads", () => {
    expect(loadEngineConfig({}, "/srv/bot")).toEqual({
      backend: undefined,
      threads: "auto",
      modelsDir: defaultModelsDir(),
      weightsLocation: vgg19WeightsFile(defaultModelsDir()),
      logLevel: "info",
    });
  });

  it("reads every engine variable, resolving paths against the working dir", () => {
    const env = {
      STYLIZE_BACKEND: "wasm",
      STYLIZE_THREADS: "3",
      STYLIZE_WEIGHTS: "w/vgg.h5",
      STYLIZE_MODELS_DIR: "here",
      LOG_LEVEL: "debug",
    };
    expect(loadEngineConfig(env, "/srv/bot")).toEqual({
      backend: "wasm",
      threads: 3,
      weightsLocation: "/srv/bot/w/vgg.h5",
      modelsDir: "/srv/bot/here",
      logLevel: "debug",
    });
  });

  it("without STYLIZE_WEIGHTS, looks for the downloaded weights in STYLIZE_MODELS_DIR", () => {
    expect(loadEngineConfig({ STYLIZE_MODELS_DIR: "/data/models" }).weightsLocation).toBe(
      vgg19WeightsFile("/data/models"),
    );
  });

  it("takes auto and empty values as the defaults, and every backend name", () => {
    const auto = loadEngineConfig({ STYLIZE_BACKEND: " auto ", STYLIZE_THREADS: "auto", LOG_LEVEL: "" });
    expect([auto.backend, auto.threads, auto.logLevel]).toEqual([undefined, "auto", "info"]);
    expect(loadEngineConfig({ STYLIZE_THREADS: " " }).threads).toBe("auto");
    for (const name of BACKEND_ORDER) expect(loadEngineConfig({ STYLIZE_BACKEND: name }).backend).toBe(name);
  });

  it("uses the caller's log level when LOG_LEVEL is unset", () => {
    expect(loadEngineConfig({}, "/", "warn").logLevel).toBe("warn");
    expect(loadEngineConfig({ LOG_LEVEL: "error" }, "/", "warn").logLevel).toBe("error");
  });

  it.each([
    [
      "STYLIZE_BACKEND",
      "gpu",
      /must be one of auto, tensorflow-gpu, tensorflow, onnxruntime, wasm, cpu; got "gpu"/,
    ],
    ["STYLIZE_THREADS", "0", /must be auto or a whole number 1–256; got "0"/],
    ["STYLIZE_THREADS", "257", /must be auto or a whole number 1–256; got "257"/],
    ["STYLIZE_THREADS", "1.5", /must be auto or a whole number 1–256; got "1.5"/],
    ["STYLIZE_THREADS", "two", /must be auto or a whole number 1–256; got "two"/],
    ["LOG_LEVEL", "loud", /must be one of fatal, error, warn, info, debug, trace, silent; got "loud"/],
  ])("fails on %s=%s, naming the variable under its problem", (name, value, problem) => {
    for (const load of [() => loadEngineConfig({ [name]: value }), () => loadConfig({ [name]: value })]) {
      const message = configError(load);
      expect(message).toMatch(problem);
      expect(message).toMatch(new RegExp(`${problem.source}\\n\\s*→ at ${name}`));
    }
  });

  it("neither needs nor checks the bot's variables", () => {
    const botOnly = { STYLIZE_CONCURRENCY: "lots", DEV_GUILD_ID: "123", DISCORD_TOKEN: "" };
    expect(loadEngineConfig(botOnly).threads).toBe("auto");
    expect(configError(() => loadConfig(botOnly))).toMatch(/STYLIZE_CONCURRENCY/);
  });
});

describe("loadConfig (the bot)", () => {
  it("applies defaults and resolves paths", () => {
    const config = loadConfig({}, "/srv/bot");
    expect(config.queue).toEqual({
      concurrency: 1,
      perUserLimit: 2,
      globalCap: 30,
      jobTimeoutMs: 30 * 60_000,
      engineMaxRssBytes: 8192 * 2 ** 20,
      shutdownGraceMs: 20_000,
    });
    expect(config.deliveryDeadlineMs).toBe(15 * 60_000);
    expect(config.keepJobsDays).toBe(7);
    expect(config.presetsManifest).toBe("/srv/bot/models/paintings.json");
    expect(config.dataDir).toBe("/srv/bot/data");
    expect(config.discordToken).toBeUndefined();
    expect(config.backend).toBeUndefined();
    expect(config.threads).toBe("auto");
    expect(config.logLevel).toBe("info");
  });

  it("includes the engine's part, read the same way", () => {
    const env = { STYLIZE_BACKEND: "cpu", STYLIZE_THREADS: "2", STYLIZE_WEIGHTS: "vgg", LOG_LEVEL: "warn" };
    const { backend, threads, weightsLocation, modelsDir, logLevel } = loadConfig(env, "/srv/bot");
    expect({ backend, threads, weightsLocation, modelsDir, logLevel }).toEqual(
      loadEngineConfig(env, "/srv/bot"),
    );
  });

  it("lists every invalid variable in one friendly error", () => {
    let error: unknown;
    try {
      loadConfig({
        STYLIZE_CONCURRENCY: "two",
        STYLIZE_BACKEND: "gpu",
        DEV_GUILD_ID: "123",
        STYLIZE_DEFAULT_SIZE: "900",
        STYLIZE_MAX_SIZE: "800",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ["STYLIZE_CONCURRENCY", "STYLIZE_BACKEND", "DEV_GUILD_ID"])
      expect(message).toContain(name);
  });

  it("refuses a default size above the maximum", () => {
    expect(() => loadConfig({ STYLIZE_DEFAULT_SIZE: "900", STYLIZE_MAX_SIZE: "800" })).toThrow(
      /STYLIZE_DEFAULT_SIZE must not exceed/,
    );
  });
});
