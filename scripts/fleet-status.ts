import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { exitWithMessage as fail, loadConfigOrExit } from "../src/config.js";
import { fleetHealth } from "../src/jobs/index.js";
import { fleetKeys, QUEUE_NAME } from "../src/jobs/redis/keys.js";

/** `npm run fleet:status`: the fleet at a glance (workers alive, their slots, jobs waiting and running). */

const config = loadConfigOrExit();
if (!config.fleet) fail("REDIS_URL is not set: there is no fleet to show (the bot runs jobs itself).");
const { redisUrl, prefix } = config.fleet;
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl }, prefix });
try {
  const health = await fleetHealth(redis, queue, fleetKeys(prefix));
  const lines = [
    `workers alive: ${health.workers} (${health.busy}/${health.slots} engine slots painting)`,
    `jobs: ${health.running} running, ${health.waiting} waiting · ${health.jobsPerMinute.toFixed(1)} finished per minute (last 10 min)`,
    ...health.hosts.map(
      (h) =>
        `  ${h.id}  slots ${h.busy}/${h.slots}${h.gpu === undefined ? "" : `  gpu ${h.gpu}`}  done ${h.done}`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await queue.close();
  redis.disconnect();
}
