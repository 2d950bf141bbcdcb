// Test helpers for Modbus: a real Modbus TCP server with given register contents and a request
// counter, a socat pty pair (a real serial line between two device nodes), and a recording sink.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReadingSink } from "../../src/core/ports.js";
import type { Reading } from "../../src/core/types.js";
import { ModbusSlave, ModbusTcpSlave, type SlaveOptions } from "../../src/sources/modbus/slave.js";
import { waitFor } from "./wait.js";

export interface TestModbusServer {
  slave: ModbusSlave;
  tcp: ModbusTcpSlave;
  port: number;
  close(): Promise<void>;
}

/** Starts a Modbus TCP server on 127.0.0.1 (free port). `slave.requests` counts requests. */
export async function startModbusServer(opts: SlaveOptions = {}): Promise<TestModbusServer> {
  const slave = new ModbusSlave(opts);
  const tcp = new ModbusTcpSlave(slave);
  const port = await tcp.listen(0);
  return { slave, tcp, port, close: () => tcp.close() };
}

export function hasSocat(): boolean {
  return spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0;
}

export const SOCAT_MISSING = "socat is not installed: RTU tests need it (apt-get install socat)";

export interface PtyPair {
  a: string;
  b: string;
  dir: string;
  proc: ChildProcess;
  /** Kills socat (the line disappears, like a pulled USB adapter). */
  kill(): Promise<void>;
  /** Starts socat again with the same link names (the adapter is plugged back in). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function spawnSocat(a: string, b: string): Promise<ChildProcess> {
  const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: "ignore",
  });
  await waitFor(() => existsSync(a) && existsSync(b), { timeoutMs: 5000, what: "socat pty links" });
  return proc;
}

async function killProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  if (proc.pid !== undefined) process.kill(proc.pid, "SIGTERM");
  await exited;
}

export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), "edge-pty-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  const pair: PtyPair = {
    a,
    b,
    dir,
    proc: await spawnSocat(a, b),
    async kill() {
      await killProc(pair.proc);
      await waitFor(() => !existsSync(a) && !existsSync(b), { timeoutMs: 5000, what: "pty links removed" });
    },
    async restart() {
      pair.proc = await spawnSocat(a, b);
    },
    async close() {
      await killProc(pair.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pair;
}

/** A ReadingSink that records what a source delivers. */
export class RecordingSink implements ReadingSink {
  readonly readings: Reading[] = [];
  readonly reachability: { deviceId: string; reachable: boolean; reason?: string | undefined; at: number }[] = [];
  ingest(reading: Reading): void {
    this.readings.push({ ...reading, values: { ...reading.values } });
  }
  setReachable(deviceId: string, reachable: boolean, reason?: string): void {
    this.reachability.push({ deviceId, reachable, reason, at: Date.now() });
  }
  of(deviceId: string): Reading[] {
    return this.readings.filter((r) => r.deviceId === deviceId);
  }
  last(deviceId: string): Reading | undefined {
    const r = this.of(deviceId);
    return r[r.length - 1];
  }
}

/** Writes registers for a value the way a device would lay it out (test fixture, independent of decode.ts). */
export function layout(bytesBigEndian: number[], order: "ABCD" | "CDAB" | "BADC" | "DCBA"): number[] {
  const n = bytesBigEndian.length / 2;
  const words: number[] = [];
  for (let i = 0; i < n; i++)
    words.push(((bytesBigEndian[i * 2] as number) << 8) | (bytesBigEndian[i * 2 + 1] as number));
  const swapBytes = (w: number) => ((w & 0xff) << 8) | (w >> 8);
  switch (order) {
    case "ABCD":
      return words;
    case "CDAB":
      return words.reverse();
    case "BADC":
      return words.map(swapBytes);
    case "DCBA":
      return words.reverse().map(swapBytes);
  }
}
