/**
 * Shared set-up for the bot's end-to-end tests: the real bot (createBot), the real engine in its own
 * processes (tiny generated VGG weights, cpu backend, few steps) and the loopback Discord double.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REST, Routes } from "discord.js";
import { build } from "esbuild";
import sharp from "sharp";
import { expect } from "vitest";
import { commands } from "../commands/index.js";
import type { Command } from "../src/bot/command.js";
import { type Bot, createBot } from "../src/bot/create-bot.js";
import { loadConfig } from "../src/config.js";
import type { StylizeOptions } from "../src/engine/types.js";
import { createLogger, type Logger } from "../src/log.js";
import type { ResultRecord } from "../src/store/index.js";
import {
  type DiscordDouble,
  type RecordedRequest,
  type SentInteraction,
  startDiscordDouble,
} from "./discord-double/index.js";
import { tinyVggWeights, writeTfjsFolder } from "./fixtures/tiny-vgg.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The engine host is TypeScript; the engine processes run JavaScript. */
export function bundleEngineHost(): Promise<string> {
  return bundleForNode(path.join(repo, "src", "jobs", "engine-host.ts"), "engine-host");
}

/**
 * Bundle a TypeScript entry point to runnable JavaScript (dependencies stay external) inside the repo,
 * so its imports resolve from node_modules exactly as the compiled dist/ file's would.
 */
export async function bundleForNode(
  entry: string,
  name: string,
  outfile = path.join(repo, "node_modules", ".cache", "stylize-tests", `${name}-${process.pid}.mjs`),
): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "error",
  });
  return outfile;
}

/**
 * The bot as `npm start` runs it (src/main.ts), with its engine host beside it where the bot looks for
 * it, in a folder of its own; returns the entry point.
 */
export async function bundleBotApp(): Promise<{ main: string; dir: string }> {
  const dir = path.join(repo, "node_modules", ".cache", "stylize-tests", `app-${process.pid}`);
  const [main] = await Promise.all([
    bundleForNode(path.join(repo, "src", "main.ts"), "main", path.join(dir, "main.js")),
    bundleForNode(
      path.join(repo, "src", "jobs", "engine-host.ts"),
      "engine-host",
      path.join(dir, "engine-host.js"),
    ),
  ]);
  return { main, dir };
}

/**
 * Every entry point of a fleet (`npm start`, `npm run start:sharded`, `npm run worker`) with the engine
 * host beside them, in a folder of its own; returns the folder.
 */
export async function bundleFleetApp(): Promise<string> {
  const dir = path.join(repo, "node_modules", ".cache", "stylize-tests", `fleet-${process.pid}`);
  await Promise.all(
    ["main", "sharded-main", "worker-main", "jobs/engine-host"].map((entry) =>
      bundleForNode(
        path.join(repo, "src", `${entry}.ts`),
        path.basename(entry),
        path.join(dir, `${path.basename(entry)}.js`),
      ),
    ),
  );
  return dir;
}

export const PRESETS = [
  { name: "starry-test", title: "Starry Test", artist: "Test Painter", year: "1889", colour: [40, 60, 160] },
  { name: "wave-test", title: "Wave Test", artist: "Other Painter", year: "c. 1831", colour: [200, 120, 40] },
] as const;

/** A striped painting, so the style has texture for the Gram matrices to see. */
async function paintingJpeg(colour: readonly number[]): Promise<Buffer> {
  const width = 96;
  const height = 64;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const stripe = (x + y) % 12 < 6 ? 1 : 0.4;
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(colour[c]! * stripe);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg()
    .toBuffer();
}

/** A small photo-like test image (a gradient with a square), encoded as PNG. */
export async function photoPng(width = 80, height = 60): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inSquare = x > width / 3 && x < (2 * width) / 3 && y > height / 3 && y < (2 * height) / 3;
      const i = (y * width + x) * 3;
      data[i] = inSquare ? 240 : Math.round((255 * x) / width);
      data[i + 1] = inSquare ? 220 : Math.round((255 * y) / height);
      data[i + 2] = 90;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * The test bot's weights: all 16 convs (the default Gatys layers reach relu5_1) at a few channels, so a
 * step takes milliseconds. Exported so an in-thread comparison can run the very same network.
 */
export const TINY_VGG = { layers: 16, channels: [4, 6, 8, 8, 8], seed: 3 } as const;

/** A models dir with tiny weights and a presets manifest whose checksums are real. */
export async function writeTestModels(dir: string): Promise<{ weights: string; manifest: string }> {
  const weights = path.join(dir, "tiny-vgg");
  await writeTfjsFolder(tinyVggWeights(TINY_VGG), weights);
  const files = [];
  for (const preset of PRESETS) {
    const bytes = await paintingJpeg(preset.colour);
    const dest = `paintings/${preset.name}.jpg`;
    await mkdir(path.join(dir, "paintings"), { recursive: true });
    await writeFile(path.join(dir, dest), bytes);
    files.push({
      name: preset.name,
      title: preset.title,
      artist: preset.artist,
      year: preset.year,
      url: `https://example.org/${preset.name}.jpg`,
      bytes: bytes.length,
      checksum: { algorithm: "sha256", hex: createHash("sha256").update(bytes).digest("hex") },
      dest,
      licence: "Public domain (generated for tests)",
      source: "generated by test/bot-helpers.ts",
    });
  }
  const manifest = path.join(dir, "paintings.json");
  await writeFile(manifest, JSON.stringify({ name: "paintings", description: "test presets", files }));
  return { weights, manifest };
}

export interface TestBot {
  readonly double: DiscordDouble;
  readonly bot: Bot;
  /** Polls `check` until it returns a value (not undefined/false) or the time runs out. */
  eventually<T>(check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface TestBotOptions {
  readonly env?: Record<string, string>;
  /** Engine schedule for every job: kept tiny so a run takes a second or two. */
  readonly engine?: Partial<StylizeOptions>;
  readonly log?: Logger;
  /** Connect to this double instead of starting one (it is then not closed with the bot). */
  readonly useDouble?: DiscordDouble;
  /** Slash commands in place of the bot's own (registered with the double the same way). */
  readonly commands?: readonly Command[];
}

/** The bot's environment in tests: tiny weights and sizes, the cpu backend, frequent progress edits. */
export function testBotEnv(
  dir: string,
  double: DiscordDouble,
  models: { weights: string; manifest: string },
): Record<string, string> {
  return {
    DISCORD_TOKEN: double.token,
    STYLIZE_BACKEND: "cpu",
    STYLIZE_WEIGHTS: models.weights,
    STYLIZE_MODELS_DIR: dir,
    STYLIZE_PRESETS_MANIFEST: models.manifest,
    STYLIZE_DEFAULT_SIZE: "48",
    STYLIZE_MAX_SIZE: "64",
    STYLIZE_PROGRESS_INTERVAL_MS: "150",
    STYLIZE_DATA_DIR: path.join(dir, "data"),
    LOG_LEVEL: "silent",
  };
}

export const TEST_ENGINE: Partial<StylizeOptions> = { scales: 2, stepsPerScale: 12, optimizer: "adam" };

export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const dir = await mkdtemp(path.join(tmpdir(), "stylize-bot-"));
  const [{ weights, manifest }, engineScript] = await Promise.all([writeTestModels(dir), bundleEngineHost()]);
  const double = options.useDouble ?? (await startDiscordDouble());
  const config = loadConfig({ ...testBotEnv(dir, double, { weights, manifest }), ...options.env });
  const bot = await createBot(config, {
    clientOptions: { rest: { api: double.apiBase } },
    engineScript,
    engineOverrides: { ...TEST_ENGINE, ...options.engine },
    log: options.log ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    commands: options.commands ?? commands,
  });
  // Register the commands the way deploy-commands does, so the double knows the option types.
  await new REST({ api: double.apiBase })
    .setToken(double.token)
    .put(Routes.applicationGuildCommands(double.applicationId, double.guildId), {
      body: (options.commands ?? commands).map((c) => c.data.toJSON()),
    });
  await bot.start();
  await double.ready;
  while (!bot.client.isReady()) await new Promise((resolve) => setTimeout(resolve, 10));

  const eventually = async <T>(check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  return {
    double,
    bot,
    eventually,
    async close() {
      await bot.stop();
      if (!options.useDouble) await double.close();
      await rm(dir, { recursive: true, force: true });
      await rm(engineScript, { force: true });
    },
  };
}

/** Members the bot tests act as (the double makes up any member that is not configured). */
export const ALICE = { id: "200000000000000001", username: "alice" };
export const BOB = { id: "200000000000000002", username: "bob" };
/** Manage Server (plus the usual member permissions the double gives everyone). */
export const MANAGE_SERVER = { permissions: String((1n << 5n) | (1n << 10n) | (1n << 11n) | (1n << 31n)) };

/**
 * Sends /stylize as `user` with a photo (photoPng of `size`) hosted on the double's CDN; `options` (style,
 * seed, size, ...) go with the image. The caller awaits and checks the response.
 */
export async function sendStylize(
  double: DiscordDouble,
  user: { id: string; username: string },
  options: { style: string } & Record<string, unknown>,
  size: readonly [width: number, height: number] = [80, 60],
  where: { guildId?: string } = {},
): Promise<SentInteraction> {
  const image = double.hostAttachment(await photoPng(...size), {
    filename: "photo.png",
    contentType: "image/png",
  });
  return double.sendCommand({ name: "stylize", user, options: { image, ...options } as never, ...where });
}

export interface Embed {
  description?: string;
  image?: { url: string };
  footer?: { text?: string };
}

/** The first embed a recorded request sent (empty when it sent none). */
export function embedOf(request: RecordedRequest): Embed {
  return (request.json as { embeds?: Embed[] } | undefined)?.embeds?.[0] ?? {};
}

/** The first embed's description, "" when there is none. */
export function descriptionOf(request: RecordedRequest): string {
  return embedOf(request).description ?? "";
}

/** Whether a recorded request edits the original response of the interaction with this token. */
export function isOriginalEdit(request: RecordedRequest, token: string): boolean {
  return (
    request.method === "PATCH" &&
    request.path.includes(token) &&
    request.route.endsWith("/messages/@original")
  );
}

/** Edits of an interaction's original response, in order. */
export function originalEdits(double: DiscordDouble, token: string): RecordedRequest[] {
  return double.requests.filter((r) => isOriginalEdit(r, token));
}

/** The job id behind an interaction's reply, read from the buttons of its latest edit that has some. */
export function jobIdOf(double: DiscordDouble, token: string): string {
  const withButtons = originalEdits(double, token).findLast(
    (r) => (r.json as { components?: unknown[] }).components?.length,
  );
  const json = withButtons!.json as { components: { components: { custom_id: string }[] }[] };
  return json.components[0]!.components[0]!.custom_id.split(":")[1]!;
}

/**
 * Waits until the bot holds none of `user`'s jobs. The double records a job's final edit before the bot has
 * seen Discord's answer and let go of the job, so a finished edit alone does not free the member's slots.
 */
export async function jobsReleased(t: TestBot, user: { readonly id: string }): Promise<void> {
  await expect.poll(async () => (await t.bot.jobs.status(user.id)).jobs, { timeout: 10_000 }).toEqual([]);
}

/** Waits for the successful edit of an interaction's reply that delivers the painting. */
export function paintingReady(double: DiscordDouble, token: string): Promise<RecordedRequest> {
  return double.waitFor(
    (r) => isOriginalEdit(r, token) && r.status < 300 && descriptionOf(r).includes("your painting is ready"),
    { timeoutMs: 60_000 },
  );
}

/** Dispatches a raw MESSAGE_REACTION_ADD / REMOVE of a unicode emoji as Discord sends it, in the double's channel. */
export function react(
  double: DiscordDouble,
  change: "add" | "remove",
  userId: string,
  messageId: string,
  emoji = "⭐",
): void {
  double.dispatch(change === "add" ? "MESSAGE_REACTION_ADD" : "MESSAGE_REACTION_REMOVE", {
    user_id: userId,
    channel_id: double.channelId,
    message_id: messageId,
    guild_id: double.guildId,
    emoji: { id: null, name: emoji },
    burst: false,
    type: 0,
  });
}

/** Puts a result in the bot's store as if /stylize had delivered it: Alice's, in the double's channel. */
export function storeResult(
  t: TestBot,
  result: Pick<ResultRecord, "messageId" | "preset" | "seed"> & { createdAt?: number },
): void {
  t.bot.context.store.recordResult({
    messageId: result.messageId,
    channelId: t.double.channelId,
    guildId: t.double.guildId,
    requesterId: ALICE.id,
    preset: result.preset,
    settings: {},
    seed: result.seed,
    createdAt: result.createdAt ?? Date.now(),
  });
}

/** Hall-of-fame reposts of a result: posts in the double's channel that mention its message id. */
export function repostsOf(double: DiscordDouble, messageId: string): RecordedRequest[] {
  return double.requests.filter(
    (r) =>
      r.method === "POST" &&
      r.route === `/channels/${double.channelId}/messages` &&
      JSON.stringify(r.json).includes(messageId),
  );
}

/** Rings: a picture unlike the tests' striped built-in paintings and gradient photos. */
export async function ringsPng(size: number, format: "png" | "jpeg" = "png"): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - size / 2, y - size / 3) / size;
      const v = Math.sin(r * 40) > 0 ? 230 : 20;
      data.set([v, 255 - v, (x * 255) / size], (y * size + x) * 3);
    }
  }
  const image = sharp(data, { raw: { width: size, height: size, channels: 3 } });
  return format === "png" ? image.png().toBuffer() : image.jpeg({ quality: 70 }).toBuffer();
}

/** Sends `/preset <sub>` with `options` as `user` (and `member`, for permissions and roles). */
export function sendPreset(
  double: DiscordDouble,
  sub: string,
  user: { id: string; username: string },
  options: Record<string, unknown>,
  member?: { permissions?: string; roles?: string[] },
): SentInteraction {
  return double.sendCommand({
    name: "preset",
    user,
    member,
    options: [
      { name: sub, type: 1, options: Object.entries(options).map(([name, value]) => ({ name, value })) },
    ],
  } as never);
}

/** The private text an interaction got: its ephemeral reply, or the follow-up after an ephemeral defer. */
export async function privateReply(
  double: DiscordDouble,
  sent: { token: string; response: Promise<{ type: number; data?: Record<string, unknown> }> },
): Promise<string> {
  const callback = await sent.response;
  expect(Number(callback.data?.flags) & 64).toBe(64); // ephemeral, or deferred ephemerally
  if (callback.type === 4) return String(callback.data?.content);
  const request = await double.waitFor((r) => r.path.startsWith("/webhooks") && r.path.includes(sent.token), {
    timeoutMs: 15_000,
  });
  return (request.json as { content: string }).content;
}

/** Noise that compresses badly (so its stored size is predictable) and hashes unlike any other seed's. */
export async function noisePng(size: number, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    data[i] = state >> 23;
  }
  return sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}
