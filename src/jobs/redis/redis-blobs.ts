import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { BlobAccess } from "../run-job.js";
import type { FleetKeys } from "./keys.js";

/**
 * Files shared by bot processes and workers (photos, paintings, previews, results), as Redis strings that
 * expire: the bot copies what it keeps into its own store, so Redis never becomes the archive.
 */
export class RedisBlobs implements BlobAccess {
  readonly #redis: Redis;
  readonly #keys: FleetKeys;
  readonly #ttlMs: number;

  constructor(redis: Redis, keys: FleetKeys, ttlMs: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = ttlMs;
  }

  async put(data: Uint8Array, id = randomBytes(12).toString("base64url")): Promise<string> {
    await this.#redis.set(this.#keys.blob(id), Buffer.from(data), "PX", this.#ttlMs);
    return id;
  }

  async get(id: string): Promise<Buffer> {
    const data = await this.#redis.getBuffer(this.#keys.blob(id));
    if (!data) throw new Error(`the shared file ${id} has expired or was never written`);
    return data;
  }
}
