import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Job } from "../src/bot/job.js";
import { JobArchive, KEEP_JOBS_DAYS } from "../src/bot/job-archive.js";
import { createLogger } from "../src/log.js";

const log = createLogger({ level: "silent" });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stylize-archive-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function job(id: string, createdAt: number): Job {
  const data = new Uint8Array(4 * 3 * 3).map((_, i) => (i * 37) % 256);
  return {
    id,
    userId: "200000000000000001",
    channelId: "300000000000000001",
    createdAt,
    content: { data, width: 4, height: 3 },
    settings: { presetId: "starry", strength: 0.5, quality: "fast", size: 64, preserveColors: true, seed: 9 },
  };
}

describe("JobArchive", () => {
  it("keeps a job's settings and exact pixels, and lists unfinished jobs oldest first", async () => {
    const archive = new JobArchive(dir, log);
    await Promise.all([archive.save(job("b", 2)), archive.save(job("a", 1)), archive.save(job("c", 3))]);
    await archive.markFinished(job("c", 3));
    const loaded = await archive.load("a");
    expect(loaded?.settings).toEqual(job("a", 1).settings);
    expect([...loaded!.content.data]).toEqual([...job("a", 1).content.data]);
    expect((await archive.unfinished()).map((j) => j.id)).toEqual(["a", "b"]);
    expect(await archive.load("c")).toBeDefined(); // finished jobs still serve their buttons
  });

  it("records 'finished' after the save even when both are asked for at once", async () => {
    const archive = new JobArchive(dir, log);
    void archive.save(job("quick", 1));
    await archive.markFinished(job("quick", 1));
    expect(await archive.unfinished()).toEqual([]);
  });

  it("refuses ids that could leave the folder and ignores unknown ones", async () => {
    const archive = new JobArchive(dir, log);
    expect(await archive.load("../../etc/passwd")).toBeUndefined();
    expect(await archive.load("missing")).toBeUndefined();
  });

  it(`deletes jobs older than ${KEEP_JOBS_DAYS} days`, async () => {
    const archive = new JobArchive(dir, log);
    await archive.save(job("old", 1));
    await archive.save(job("new", 2));
    const longAgo = new Date(Date.now() - (KEEP_JOBS_DAYS + 1) * 24 * 60 * 60 * 1000);
    for (const ext of ["json", "png"]) await utimes(path.join(dir, "jobs", `old.${ext}`), longAgo, longAgo);
    expect(await archive.prune()).toBe(2);
    expect((await readdir(path.join(dir, "jobs"))).sort()).toEqual(["new.json", "new.png"]);
  });
});
