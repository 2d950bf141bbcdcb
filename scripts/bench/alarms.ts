// Alarm persistence benchmark: transitions committed per second with an outbox row each
// (WAL, synchronous=FULL), batched vs one transaction per transition, the commit latency seen
// by listeners (observe → committed event), and the cost of a no-op observe on the hot path.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlarmService } from "../../src/alarms/service.js";
import { systemClock } from "../../src/core/clock.js";
import type { EventBus } from "../../src/core/events.js";
import { silentLogger } from "../../src/core/log.js";
import type { MetricsRegistry } from "../../src/core/metrics.js";
import type { AlarmChange, CompiledRule, DeviceView } from "../../src/core/ports.js";
import type { DeviceState, Reading } from "../../src/core/types.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { testBus, testMetrics } from "../../test/helpers/harness.js";

const DEVICES = 500;

const rule: CompiledRule = {
  def: {
    id: "bench-overvoltage",
    name: "overvoltage",
    title: "Over-voltage",
    key: "meter",
    type: "rule",
    level: 4,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
  },
  file: "bench.json",
  level: () => 0,
};

interface Setup {
  db: Db;
  svc: AlarmService;
  events: EventBus;
  devices: DeviceState[];
  readings: Reading[];
  metrics: MetricsRegistry;
}

async function setup(dir: string, name: string, batchMaxDelayMs: number): Promise<Setup> {
  const db = openDatabase(join(dir, `${name}.db`));
  const log = silentLogger();
  const events = testBus(log);
  const devices: DeviceState[] = [];
  const readings: Reading[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const d: DeviceState = {
      id: `meter-${i}`,
      product: "meter",
      name: `Meter ${i}`,
      status: "online",
      lastSeen: null,
      values: { voltage: 255 },
      source: "mqtt",
    };
    devices.push(d);
    readings.push({ deviceId: d.id, product: "meter", ts: 0, values: d.values, source: "mqtt" });
  }
  const byId = new Map(devices.map((d) => [d.id, d]));
  const view: DeviceView = { get: (id) => byId.get(id), list: () => devices };
  const ins = db.prepare(
    "INSERT INTO outbox (kind, class, stream, alarm_id, payload, created) VALUES (?, 'alarm', ?, ?, ?, ?)",
  );
  const metrics = testMetrics();
  const svc = new AlarmService({
    db,
    clock: systemClock,
    log,
    events,
    metrics,
    devices: view,
    batchMaxDelayMs,
    changeSink: {
      writeInTransaction(changes: readonly AlarmChange[]) {
        for (const c of changes) {
          ins.run(`alert.${c.kind}`, c.alarm.id, c.alarm.id, JSON.stringify(c.alarm), c.now);
        }
      },
    },
  });
  await svc.start();
  return { db, svc, events, devices, readings, metrics };
}

function committedCounter(s: Setup): { count: number; latencies: number[]; sent: number[][] } {
  const st = { count: 0, latencies: [] as number[], sent: s.devices.map(() => [] as number[]) };
  const done = (deviceId: string) => {
    st.count++;
    const q = st.sent[Number(deviceId.slice(6))];
    const t0 = q?.shift();
    if (t0 !== undefined) st.latencies.push(performance.now() - t0);
  };
  s.events.on("alarmCreated", (a) => done(a.resource.id));
  s.events.on("alarmResolved", (a) => done(a.resource.id));
  return st;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Saturated: every turn of the event loop, each device flips (one transition each). */
async function batched(dir: string, durationMs: number): Promise<{ perS: number; perBatch: number }> {
  const s = await setup(dir, "batched", 5);
  const st = committedCounter(s);
  let flip = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    const level = flip++ % 2 === 0 ? 2 : 0;
    for (let i = 0; i < DEVICES; i++) s.svc.observe(rule, s.devices[i] as DeviceState, level, s.readings[i] as Reading);
    await tick();
  }
  await s.svc.flush();
  const elapsed = performance.now() - t0;
  const commits = s.metrics.counter("edge_alarm_commits_total", "").get();
  await s.svc.stop();
  s.db.close();
  return { perS: (st.count / elapsed) * 1000, perBatch: st.count / Math.max(1, commits) };
}

/** Baseline: one transaction (one fsync) per transition. */
async function unbatched(dir: string, durationMs: number): Promise<number> {
  const s = await setup(dir, "unbatched", 0);
  const st = committedCounter(s);
  let flip = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    const level = flip++ % 2 === 0 ? 2 : 0;
    for (let i = 0; i < DEVICES && performance.now() - t0 < durationMs; i++) {
      s.svc.observe(rule, s.devices[i] as DeviceState, level, s.readings[i] as Reading);
      await s.svc.flush();
    }
  }
  const elapsed = performance.now() - t0;
  await s.svc.stop();
  s.db.close();
  return (st.count / elapsed) * 1000;
}

/** Paced load (`rate` transitions/s in 1 ms steps): time from observe to the committed event. */
async function latency(
  dir: string,
  rate: number,
  durationMs: number,
): Promise<{ p50: number; p99: number; max: number }> {
  const s = await setup(dir, "latency", 5);
  const st = committedCounter(s);
  const levels = s.devices.map(() => 0 as 0 | 2);
  let next = 0;
  const t0 = performance.now();
  let due = 0;
  while (performance.now() - t0 < durationMs) {
    const target = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; due < target; due++) {
      const i = next++ % DEVICES;
      levels[i] = levels[i] === 2 ? 0 : 2;
      (st.sent[i] as number[]).push(performance.now());
      s.svc.observe(rule, s.devices[i] as DeviceState, levels[i] as 0 | 2, s.readings[i] as Reading);
    }
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  await s.svc.flush();
  await s.svc.stop();
  s.db.close();
  const l = st.latencies.sort((a, b) => a - b);
  const q = (p: number) => l[Math.min(l.length - 1, Math.floor(p * l.length))] ?? 0;
  return { p50: q(0.5), p99: q(0.99), max: l[l.length - 1] ?? 0 };
}

/** The common case on the hot path: level 0 and no open episode. */
async function noop(dir: string): Promise<number> {
  const s = await setup(dir, "noop", 5);
  const d = s.devices[0] as DeviceState;
  const r = s.readings[0] as Reading;
  const N = 5_000_000;
  for (let i = 0; i < 100_000; i++) s.svc.observe(rule, d, 0, r);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) s.svc.observe(rule, d, 0, r);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  await s.svc.stop();
  s.db.close();
  return ns;
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-alarms-"));
  try {
    const base = await unbatched(dir, 3000);
    const b = await batched(dir, 5000);
    console.log(
      `alarms.transitions_per_s: ${Math.round(b.perS)} (baseline one transaction per transition: ${Math.round(base)}, ratio ${(b.perS / base).toFixed(1)}; synchronous=FULL, one outbox row each, ${Math.round(b.perBatch)} per transaction)`,
    );
    for (const rate of [1000, 5000]) {
      const lat = await latency(dir, rate, 3000);
      console.log(
        `alarms.commit_latency_ms_at_${rate}_per_s: p50 ${lat.p50.toFixed(2)}, p99 ${lat.p99.toFixed(2)}, max ${lat.max.toFixed(2)} (observe → committed event)`,
      );
    }
    const ns = await noop(dir);
    console.log(`alarms.observe_noop_ns: ${ns.toFixed(1)} (level 0, no open episode)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
