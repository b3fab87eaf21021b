import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/**
 * The real Redis the fleet tests use (the machine runs one on 127.0.0.1:6379; `.ci/run` starts it if
 * needed). Each test run works under its own key prefix and deletes it afterwards.
 */

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether Redis answers; the fleet tests skip, saying so, when it does not. */
export async function redisReachable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export function skipNotice(what: string): void {
  console.warn(`\n  SKIPPED ${what}: no Redis answers at ${REDIS_URL} (start one: see .ci/run)\n`);
}

export function testPrefix(name: string): string {
  return `stylize-test-${name}-${randomBytes(4).toString("hex")}`;
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
