import { Writable } from "node:stream";
import { type ChatInputCommandInteraction, SlashCommandBuilder } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../src/bot/command.js";
import { createLogger } from "../src/log.js";
import { ALICE, startTestBot, type TestBot } from "./bot-helpers.js";

/**
 * Errors as the bot logs them, end to end on the loopback double: a plain Error keeps its message, cause
 * and stack; a Discord API error its code, status and message, and never the interaction token its
 * request URL carried.
 */

interface LogLine {
  msg: string;
  level: number;
  err?: Record<string, unknown> & { cause?: Record<string, unknown> };
}

const lines: LogLine[] = [];
const raw: string[] = [];
const destination = new Writable({
  write(chunk, _encoding, done) {
    raw.push(String(chunk));
    for (const text of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(text) as LogLine);
    done();
  },
});

function command(
  name: string,
  execute: (interaction: ChatInputCommandInteraction) => Promise<void>,
): Command {
  return { data: new SlashCommandBuilder().setName(name).setDescription(`test: ${name}`), execute };
}

const COMMANDS = [
  command("explode", async () => {
    const cause = Object.assign(new Error("disk said no"), { code: "ENOSPC", syscall: "write" });
    throw new Error("could not save the painting", { cause });
  }),
  command("answer", async (interaction) => {
    await interaction.reply("hello");
  }),
];

let t: TestBot;
beforeAll(async () => {
  t = await startTestBot({ commands: COMMANDS, log: createLogger({ level: "debug", destination }) });
}, 60_000);
afterAll(() => t?.close());

const failures = () => lines.filter((line) => line.msg === "interaction handler failed");

describe("errors in the bot's log lines", () => {
  it("an Error shows its type, message, stack and cause", async () => {
    await t.double.sendCommand({ name: "explode", user: ALICE }).response;
    const line = await t.eventually(() => failures()[0]);
    expect(line.level).toBe(50);
    expect(line.err).toMatchObject({ type: "Error", message: "could not save the painting" });
    expect(line.err?.stack).toMatch(/^Error: could not save the painting\n\s+at /);
    expect(line.err?.cause).toMatchObject({
      type: "Error",
      message: "disk said no",
      code: "ENOSPC",
      syscall: "write",
    });
  });

  it("a DiscordAPIError shows its code, status, method and message, and no token or URL", async () => {
    t.double.injectError({ route: "/interactions/:id/:token/callback" }, { discordCode: 10062 });
    const sent = t.double.sendCommand({ name: "answer", user: ALICE });
    await sent.response.catch(() => undefined); // the injected failure is the only answer
    const line = await t.eventually(() => failures()[1]);
    expect(line.err).toMatchObject({
      type: "DiscordAPIError",
      code: 10062,
      status: 404,
      method: "POST",
      message: "Unknown interaction",
    });
    expect(line.err?.stack).toMatch(/DiscordAPIError\[10062\]: Unknown interaction/);
    const everything = raw.join("");
    expect(everything).not.toContain(sent.token);
    expect(everything).not.toContain(t.double.token);
    expect(everything).not.toMatch(/"url"|"requestBody"/);
  });
});
