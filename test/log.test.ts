import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubSecrets } from "../src/log.js";

const botToken = `${"M".repeat(24)}.GaBcDe.${"x".repeat(38)}`;
const interactionToken = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OjEyMzQ1Njc4OTA6c2VjcmV0";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ destination, level: "debug" }), lines };
}

describe("logger", () => {
  it("scrubs interaction tokens inside webhook and callback URLs", () => {
    const url = `https://discord.com/api/v10/webhooks/123456789012345678/${interactionToken}/messages/@original`;
    expect(scrubSecrets(url)).toBe(
      "https://discord.com/api/v10/webhooks/123456789012345678/[redacted]/messages/@original",
    );
    expect(scrubSecrets(`/interactions/987654321/${interactionToken}/callback`)).toBe(
      "/interactions/987654321/[redacted]/callback",
    );
  });

  it("never writes a bot token or an interaction token, in messages or in objects", () => {
    const { log, lines } = capture();
    log.info(`logging in with ${botToken}`);
    log.error(
      { err: new Error(`PATCH /webhooks/1/${interactionToken}/messages/@original failed`) },
      "edit failed",
    );
    log.warn({ token: botToken, request: { url: `/interactions/5/${interactionToken}/callback` } }, "oops");
    const out = lines.join("");
    expect(lines).toHaveLength(3);
    expect(out).not.toContain(botToken);
    expect(out).not.toContain(interactionToken);
    expect(out).toContain("[redacted]");
    expect(out).toContain("edit failed");
  });

  it("logs errors with type, message, code and stack, whatever the key or the logger", () => {
    const { log, lines } = capture();
    const crash = Object.assign(new Error("worker exited with code 1"), { code: "ERR_WORKER_EXITED" });
    log.child({ component: "engine" }).error({ err: crash }, "engine worker crashed");
    log.error(new TypeError("bad input"));
    log.warn({ err: "a string was thrown", reason: new RangeError("too big") }, "odd failures");
    const [first, second, third] = lines.map((line) => JSON.parse(line));
    expect(first.err).toMatchObject({
      type: "Error",
      message: "worker exited with code 1",
      code: "ERR_WORKER_EXITED",
    });
    expect(first.err.stack).toMatch(/^Error: worker exited with code 1\n\s+at /);
    expect(second).toMatchObject({ msg: "bad input", err: { type: "TypeError", message: "bad input" } });
    expect(third.err).toBe("a string was thrown");
    expect(third.reason).toMatchObject({ type: "RangeError", message: "too big" });
  });
});
