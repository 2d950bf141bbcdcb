// Modbus benchmarks: (1) requests per poll of the 60-point test device vs one request per point,
// (2) 200 TCP devices × 50 points at 1 s against the simulator in a child process: achieved poll rate,
// skipped polls and agent CPU%, (3) RTU over a pty pair at 9600 baud with line-speed emulation,
// 10 devices × 20 points: measured cycle time vs the wire time of the minimal frames.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SerialPort } from "serialport";
import type { ModbusConfig, ModbusDeviceConfig, ModbusPointConfig } from "../../src/config/schema.js";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import type { ReadingSink } from "../../src/core/ports.js";
import { interFrameGapMs } from "../../src/sources/modbus/bus.js";
import { planDevice } from "../../src/sources/modbus/plan.js";
import { ModbusSlave, serveRtu, wireMs } from "../../src/sources/modbus/slave.js";
import { ModbusSource } from "../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../test/helpers/harness.js";
import { hasSocat, startModbusServer, startPtyPair } from "../../test/helpers/modbus.js";
import { sixtyPointDevice } from "../../test/helpers/modbus-plan-fixture.js";
import { freePort, waitFor } from "../../test/helpers/wait.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class CountingSink implements ReadingSink {
  readings = 0;
  readonly perDevice = new Map<string, number>();
  ingest(r: { deviceId: string }): void {
    this.readings++;
    this.perDevice.set(r.deviceId, (this.perDevice.get(r.deviceId) ?? 0) + 1);
  }
  setReachable(): void {}
}

function newSource(config: ModbusConfig, sink: ReadingSink, metrics = testMetrics()): ModbusSource {
  const log = silentLogger();
  return new ModbusSource({ config, sink, events: testBus(log), clock: systemClock, log, metrics });
}

async function requestsPerPoll(): Promise<void> {
  const srv = await startModbusServer();
  const dev = sixtyPointDevice("b");
  const sink = new CountingSink();
  const src = newSource(
    { buses: [{ id: "b", transport: "tcp", host: "127.0.0.1", port: srv.port }], devices: [dev] },
    sink,
  );
  await src.start();
  await waitFor(() => sink.readings >= 1, { what: "one poll" });
  await src.stop();
  await srv.close();
  const n = srv.slave.requests;
  const base = dev.points.length;
  console.log(
    `modbus.requests_per_poll: ${n} (baseline one-per-point: ${base}, ratio ${(n / base).toFixed(3)}) — 60 points, 3 tables, gaps`,
  );
}

function fiftyPoints(): ModbusPointConfig[] {
  const pts: ModbusPointConfig[] = [];
  for (let i = 0; i < 20; i++) pts.push({ name: `f${i}`, table: "holding", address: i * 2, type: "float32" });
  for (let i = 0; i < 10; i++) pts.push({ name: `s${i}`, table: "holding", address: 100 + i, type: "int16" });
  for (let i = 0; i < 10; i++)
    pts.push({ name: `e${i}`, table: "input", address: 10 + i * 2, type: "uint32", order: "CDAB", scale: 0.01 });
  for (let i = 0; i < 10; i++) pts.push({ name: `c${i}`, table: "coil", address: i, type: "bool" });
  return pts;
}

async function manyTcpDevices(): Promise<void> {
  const N = 200;
  const port = await freePort();
  const simPath = fileURLToPath(new URL("../../src/sources/modbus/sim.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      `import(${JSON.stringify(simPath)}).then(async (m) => { const s = new m.SimulatedMeter({ port: ${port} }); await s.start(); process.on("SIGTERM", () => s.stop().then(() => process.exit(0))); console.log("ready"); });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child.once("exit", (c) => reject(new Error(`simulator exited with ${c}`)));
    });
    const points = fiftyPoints();
    const devices: ModbusDeviceConfig[] = [];
    const buses: ModbusConfig["buses"] = [];
    for (let i = 0; i < N; i++) {
      buses.push({ id: `b${i}`, transport: "tcp", host: "127.0.0.1", port, timeoutMs: 1000 });
      devices.push({ id: `m${i}`, bus: `b${i}`, unitId: 1, product: "meter", intervalMs: 1000, points });
    }
    const perPoll = planDevice(devices[0] as ModbusDeviceConfig).length;
    const sink = new CountingSink();
    const metrics = testMetrics();
    const src = newSource({ buses, devices }, sink, metrics);
    await src.start();
    await sleep(3000); // connect and settle
    const SECONDS = 20;
    const r0 = sink.readings;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const cpu = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const polls = sink.readings - r0;
    const counter = metrics.counter("edge_modbus_polls_total", "");
    let skipped = 0;
    let failed = 0;
    for (let i = 0; i < N; i++) {
      skipped += counter.get({ device: `m${i}`, result: "skipped" });
      failed += counter.get({ device: `m${i}`, result: "failed" });
    }
    await src.stop();
    const rate = polls / N / (wall / 1000);
    const cpuPct = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    console.log(
      `modbus.tcp_poll_rate: ${rate.toFixed(3)} polls/s per device (target 1.000; ${N} devices × ${points.length} points, ${perPoll} requests/poll, ${SECONDS} s)`,
    );
    console.log(`modbus.tcp_skipped_polls: ${skipped} (failed: ${failed})`);
    console.log(`modbus.tcp_agent_cpu: ${cpuPct.toFixed(1)}% of one core (target <= 15%)`);
  } finally {
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
    await exited;
  }
}

async function rtuCycle(): Promise<void> {
  if (!hasSocat()) {
    console.log("modbus.rtu_cycle: skipped (socat is not installed)");
    return;
  }
  const BAUD = 9600;
  const N = 10;
  const pty = await startPtyPair();
  const slave = new ModbusSlave({ emulateBaud: BAUD });
  const sp = new SerialPort({ path: pty.b, baudRate: BAUD, autoOpen: false });
  await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
  const detach = serveRtu(slave, sp);
  try {
    const points: ModbusPointConfig[] = [];
    for (let i = 0; i < 16; i++) points.push({ name: `f${i}`, table: "holding", address: i * 2, type: "float32" });
    for (let i = 0; i < 4; i++) points.push({ name: `c${i}`, table: "coil", address: i, type: "bool" });
    const bus = { id: "rs485", transport: "rtu" as const, path: pty.a, baudRate: BAUD, timeoutMs: 1000 };
    const devices: ModbusDeviceConfig[] = [];
    for (let i = 0; i < N; i++)
      devices.push({ id: `r${i}`, bus: "rs485", unitId: i + 1, product: "meter", intervalMs: 100, points });
    // Minimal wire time of one round: every request and response frame at 9600 baud 8N1, plus the
    // 3.5-character silence the master must leave before each new request.
    let wire = 0;
    for (const d of devices)
      for (const r of planDevice(d)) {
        const resp = r.fc <= 2 ? 5 + Math.ceil(r.count / 8) : 5 + r.count * 2;
        wire += wireMs(8 + resp, BAUD) + interFrameGapMs(bus);
      }
    const sink = new CountingSink();
    const src = newSource({ buses: [bus], devices }, sink);
    await src.start();
    await waitFor(() => sink.readings >= N, { what: "first round", timeoutMs: 10_000 });
    const r0 = sink.readings;
    const t0 = performance.now();
    await sleep(15_000);
    const rounds = (sink.readings - r0) / N;
    const wall = performance.now() - t0;
    await src.stop();
    const cycle = wall / rounds;
    console.log(
      `modbus.rtu_cycle_ms: ${cycle.toFixed(1)} (minimal wire time ${wire.toFixed(1)} ms, ratio ${(cycle / wire).toFixed(3)}, target <= 1.3; ${N} devices × ${points.length} points at ${BAUD} baud, ${planDevice(devices[0] as ModbusDeviceConfig).length} requests/device)`,
    );
  } finally {
    detach();
    await new Promise<void>((r) => sp.close(() => r()));
    await pty.close();
  }
}

export default async function bench(): Promise<void> {
  await requestsPerPoll();
  await rtuCycle();
  await manyTcpDevices();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bench();
}
