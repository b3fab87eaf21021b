import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyVggWeights, writeKerasH5 } from "./fixtures/tiny-vgg.js";
import { BIN, BUILT, descendants, runCli, stillRunningAfter } from "./helpers/cli-process.js";
import { warnSkipping } from "./helpers/reference.js";

/**
 * Ctrl-C stops the `stylize` command at once, even in the middle of a step, with the terminal restored.
 * The run is sized so that one step takes seconds here (1024 px, 32–64 channels: about 5 s a step on
 * onnxruntime and 10 s on wasm on this 2-core machine), and it is interrupted about 0.3 s after the progress
 * bar is first drawn, i.e. inside the first step: a command that waited for the step to end would blow the
 * 2-second budget.
 */

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const BUDGET_MS = 2000;

const hasScript = spawnSync("script", ["--version"]).status === 0;
const hasOnnxRuntime = (() => {
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
})();
const backends = hasOnnxRuntime ? ["onnxruntime", "wasm"] : ["wasm"];
if (!hasOnnxRuntime) warnSkipping("the Ctrl-C test on onnxruntime", "onnxruntime-node is not installed");
if (!hasScript) warnSkipping("the Ctrl-C tests under a terminal", "`script` (util-linux) is not on PATH");

const shellQuote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

let dir: string;
let slowRun: (backend: string) => string[];
beforeAll(async () => {
  if (!BUILT) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  dir = await mkdtemp(path.join(tmpdir(), "stylize-ctrl-c-"));
  const weights = path.join(dir, "vgg.h5");
  await writeKerasH5(tinyVggWeights({ layers: 4, channels: [32, 64], seed: 2 }), weights);
  const photo = path.join(dir, "photo.png");
  const noise = Buffer.from(Array.from({ length: 96 * 64 * 3 }, (_, i) => (i * 37) % 251));
  await sharp(noise, { raw: { width: 96, height: 64, channels: 3 } })
    .png()
    .toFile(photo);
  slowRun = (backend) => [
    ...["--content", photo, "--style", photo, "--out", path.join(dir, `${backend}.png`)],
    ...["--weights", weights, "--content-layers", "relu2_2", "--style-layers", "relu1_1,relu2_1"],
    ...["--size", "1024", "--scales", "1", "--steps", "50", "--backend", backend],
  ];
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasScript)("Ctrl-C in a terminal", () => {
  for (const backend of backends) {
    it(`stops a run on ${backend} within 2 s, restores the cursor and exits 130`, async () => {
      // `script` gives the command a pseudo-terminal, so the bar is drawn and Ctrl-C (byte 0x03 typed into
      // the terminal) reaches the whole foreground process group, as it does for a user.
      const command = [process.execPath, BIN, ...slowRun(backend)].map(shellQuote).join(" ");
      const terminal = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      let pressedAt: number | undefined;
      let processes: number[] = [];
      terminal.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (pressedAt === undefined && output.includes("step 0/")) {
          pressedAt = Number.NaN; // pressed once only
          setTimeout(() => {
            processes = descendants(terminal.pid!);
            pressedAt = performance.now();
            terminal.stdin.write("\x03");
          }, 300);
        }
      });
      const killer = setTimeout(() => terminal.kill("SIGKILL"), 120_000);
      const code = await new Promise<number | null>((resolve) => terminal.on("close", resolve));
      const stoppedMs = performance.now() - pressedAt!;
      clearTimeout(killer);

      expect(output).toContain(`backend ${backend}`);
      expect(Number.isFinite(stoppedMs)).toBe(true);
      expect(stoppedMs).toBeLessThan(BUDGET_MS);
      expect(code).toBe(130);
      // The cursor was hidden by the bar and shown again afterwards, then the bar's line was ended.
      const hidden = output.indexOf(HIDE_CURSOR);
      expect(hidden).toBeGreaterThanOrEqual(0);
      expect(output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(hidden);
      expect(output.slice(output.lastIndexOf(SHOW_CURSOR))).toMatch(/\r?\nstylize: stopped \(Ctrl-C\)/);
      // The command and its painter process are gone, not left computing in the background.
      expect(processes.length).toBeGreaterThanOrEqual(2);
      expect(await stillRunningAfter(processes, BUDGET_MS)).toEqual([]);
      expect(await readdir(dir)).not.toContain(`${backend}.png`);
      console.info(`Ctrl-C on ${backend}: stopped ${stoppedMs.toFixed(0)} ms after the key press`);
    }, 150_000);
  }
});

describe("SIGINT sent to the command alone", () => {
  it("kills the painter too and exits 130 within 2 s", async () => {
    let processes: number[] = [];
    let signalledAt = Number.NaN;
    const result = await runCli(slowRun(backends[0]!), {
      env: { STYLIZE_BACKEND: "" },
      onStderr: (text, child) => {
        // The start line comes once the network is built, just before the first (long) step.
        if (!Number.isNaN(signalledAt) || !text.includes("backend ")) return;
        signalledAt = Number.POSITIVE_INFINITY;
        setTimeout(() => {
          processes = descendants(child.pid!);
          signalledAt = performance.now();
          child.kill("SIGINT");
        }, 300);
      },
    });
    const stoppedMs = performance.now() - signalledAt;
    expect(result.code).toBe(130);
    expect(stoppedMs).toBeLessThan(BUDGET_MS);
    expect(result.stderr).toMatch(/stylize: stopped \(Ctrl-C\) before the painting was finished\n$/);
    expect(processes).toHaveLength(1); // the painter
    expect(await stillRunningAfter(processes, BUDGET_MS)).toEqual([]);
  }, 150_000);
});

describe("a painter process that dies", () => {
  it("is reported in plain words, with the bar's line ended, and exit code 1", async () => {
    let killed = false;
    const result = await runCli(slowRun(backends[0]!), {
      onStderr: (text, child) => {
        if (killed || !text.includes("backend ")) return;
        killed = true;
        for (const pid of descendants(child.pid!)) process.kill(pid, "SIGKILL");
      },
    });
    expect(killed).toBe(true);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /\nstylize: the painting process stopped unexpectedly \(signal SIGKILL\)\n$/,
    );
  }, 150_000);
});
