import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Running the `stylize` command as a user does: the bin shim over the compiled CLI (`npm test` builds first). */

export const BIN = path.resolve(import.meta.dirname, "../../bin/stylize.js");
export const BUILT = existsSync(path.resolve(import.meta.dirname, "../../dist/src/cli/painter.js"));

/** An unprivileged user for permission tests: root ignores file modes, so tests running as root use this. */
export const NOBODY = { uid: 65534, gid: 65534 };
export const runningAsRoot = process.getuid?.() === 0;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Run as this user (needs root). */
  readonly user?: { uid: number; gid: number };
  /** Called with each stderr chunk and the process, e.g. to act once a line has appeared. */
  readonly onStderr?: (text: string, child: ChildProcess) => void;
}

/** Runs the CLI to the end, with tiny models on the cpu backend unless `env` says otherwise. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      STYLIZE_BACKEND: "cpu",
      STYLIZE_MODELS_DIR: "/nonexistent-models",
      STYLIZE_WEIGHTS: "",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.user ?? {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    options.onStderr?.(stderr, child);
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Every process below `pid` (Linux: /proc/<pid>/task/<tid>/children). */
export function descendants(pid: number): number[] {
  const children: number[] = [];
  const taskDir = `/proc/${pid}/task`;
  for (const tid of existsSync(taskDir) ? readdirSync(taskDir) : []) {
    const text = readFileSync(`${taskDir}/${tid}/children`, "utf8").trim();
    if (text) children.push(...text.split(/\s+/).map(Number));
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** Whether the process is gone (a zombie counts as gone: it runs nothing and holds no resources). */
export function isGone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Polls until every pid is gone or `ms` passes; returns the ones still running. */
export async function stillRunningAfter(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const alive = pids.filter((pid) => !isGone(pid));
    if (alive.length === 0 || performance.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
