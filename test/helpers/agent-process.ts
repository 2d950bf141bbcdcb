// Runs the real `edge-agent run` in a child process on a config written to a temp dir, collects
// its JSON log lines, and stops it by PID (SIGTERM for a clean stop, SIGKILL for a crash).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { LogLine } from "./harness.js";
import { waitFor } from "./wait.js";

export const REPO = resolve(import.meta.dirname, "../..");

export type { LogLine };

export interface AgentProcess {
  dir: string;
  configFile: string;
  child: ChildProcess;
  lines: LogLine[];
  stderr: string[];
  waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export function makeTempDir(prefix = "edge-agent-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `config` (dataDir/rulesDir/hooksDir default into `dir`) and starts the agent on it. */
export function startAgent(
  config: Record<string, unknown>,
  opts: { dir?: string; env?: NodeJS.ProcessEnv } = {},
): AgentProcess {
  const dir = opts.dir ?? makeTempDir();
  const configFile = join(dir, "agent.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  // The agent runs from source through tsx, resolved from the repository (cwd is the temp dir).
  const tsx = import.meta.resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, join(REPO, "src/main.ts"), "run", "-c", configFile], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const stderr: string[] = [];
  let buf = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buf += chunk;
    let i = buf.indexOf("\n");
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ level: 30, msg: line });
      }
      i = buf.indexOf("\n");
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (c: string) => stderr.push(c));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    dir,
    configFile,
    child,
    lines,
    stderr,
    exited,
    waitForLog: (pred, what, timeoutMs = 15_000) =>
      waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${stderr.join("")}`);
          return lines.find(pred);
        },
        { timeoutMs, what },
      ),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
