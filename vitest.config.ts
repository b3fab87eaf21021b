import { defineConfig } from "vitest/config";

/**
 * Files that assert on wall time (progress against the clock, event-loop lag, throttling intervals, one
 * run's time against another's, stop and exit deadlines, the offline download's quick failure): the
 * "timed" project, run after the rest and one file at a time, so that no other test file shares the two
 * cores with them. The others mostly wait on child processes, timers and sockets, so `npm test` runs them
 * two at a time (`--project parallel --maxWorkers 2`; vitest 3 has one worker pool for all projects, so
 * the count is set per invocation, not per project).
 */
const TIMED = [
  "test/bot-progress.test.ts",
  "test/bot-progress-stopping.test.ts",
  "test/bot-queue.test.ts",
  "test/bot-stylize.test.ts",
  "test/bot-store-lock.test.ts",
  "test/bot-throttle.test.ts",
  "test/bot-member-view.test.ts",
  "test/cli-interrupt.test.ts",
  "test/engine-wasm-threads.test.ts",
  "test/download.test.ts",
];

const shared = {
  // tfjs backends are process-global; forks keep test files isolated from each other.
  pool: "forks",
  testTimeout: 60_000,
  hookTimeout: 60_000,
} as const;

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "parallel", include: ["test/**/*.test.ts"], exclude: TIMED } },
      { test: { ...shared, name: "timed", include: TIMED, sequence: { groupOrder: 1 } } },
    ],
  },
});
