// Scheduled tasks benchmark: 1,000 tasks due in the same second, every second, each publishing one
// MQTT message to a real broker through the real scheduler (runs recorded in SQLite, WAL,
// synchronous=FULL). Prints how late the latest action of a slot started after the slot (target
// <= 1 s), and the ingestion rate of 5,000 readings/s offered to the real Pipeline while the tasks
// fire, against the same pipeline with no tasks in the same run (ratio, target >= 0.8). Readings
// are offered on a 10 ms timer that never catches up, so every stall the tasks cause is lost rate.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import type { AlarmTracker, MqttPublisher } from "../../src/core/ports.js";
import { DeviceRegistry } from "../../src/pipeline/device-registry.js";
import { Pipeline } from "../../src/pipeline/ingest.js";
import { openDatabase } from "../../src/store/db.js";
import { TasksRepo } from "../../src/store/tasks-repo.js";
import { TaskScheduler } from "../../src/tasks/scheduler.js";
import { type LoadedTask, TaskSet } from "../../src/tasks/types.js";
import { startBroker } from "../../test/helpers/broker.js";
import { testBus, testMetrics } from "../../test/helpers/harness.js";
import { thresholdRules } from "./threshold-rules.js";

const TASKS = 1000;
const OFFERED_PER_S = 5000;
const TICK_MS = 10;
const RUN_MS = 6000;
const ROUNDS = 3;
const RULES = 10;

/** Offers OFFERED_PER_S readings per second for RUN_MS; answers the readings per second it got in. */
async function ingest(): Promise<number> {
  const log = silentLogger();
  const events = testBus(log);
  const devices = new DeviceRegistry({ events });
  const alarms: AlarmTracker = {
    observe: () => {},
    rulesChanged: () => {},
    resolve: async () => null,
    flush: async () => {},
  };
  const pipeline = new Pipeline({
    devices,
    rules: thresholdRules(RULES, "voltage"),
    events,
    log,
    metrics: testMetrics(),
    alarms,
  });
  const perTick = (OFFERED_PER_S * TICK_MS) / 1000;
  let n = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        const id = `meter-${n % 50}`;
        pipeline.ingest({
          deviceId: id,
          product: "meter",
          ts: Date.now(),
          values: { voltage: 229 + (n % 7), current: 12.3, power_kw: 2.8, energy_kwh: n },
          source: "mqtt",
        });
        n++;
      }
      if (performance.now() - t0 >= RUN_MS) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  return (n / (performance.now() - t0)) * 1000;
}

interface Firing {
  stop(): Promise<{
    runs: number;
    latestStartMs: number;
    p99StartMs: number;
    medianStartMs: number;
    latestEndMs: number;
    failed: number;
  }>;
}

async function fireTasks(root: string, brokerUrl: string, round: number): Promise<Firing> {
  const db = openDatabase(join(root, `tasks-${round}.db`));
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-tasks-${process.pid}-${round}` });
  const publisher: MqttPublisher = {
    publish: async (topic, payload, opts) => {
      await client.publishAsync(topic, payload, opts);
    },
  };
  const set = new TaskSet();
  const tasks: LoadedTask[] = [];
  for (let i = 0; i < TASKS; i++) {
    tasks.push({
      file: "bench",
      def: {
        id: `t${i}`,
        name: `t${i}`,
        isEnable: true,
        schedule: { every: 1 },
        misfire: "skip",
        timeoutMs: 5000,
        actions: [{ type: "mqtt.publish", topic: `bench/tasks/${i}`, payload: { on: true } }],
      },
    });
  }
  set.replace(tasks);
  const scheduler = new TaskScheduler({
    tasks: set,
    repo: new TasksRepo(db),
    clock: systemClock,
    log: silentLogger(),
    ports: { mqtt: publisher },
    timezone: "UTC",
    runsPerTask: 100,
  });
  await scheduler.start();
  return {
    async stop() {
      await scheduler.stop();
      const starts: number[] = [];
      let latestEnd = 0;
      let failed = 0;
      for (let i = 0; i < TASKS; i++) {
        for (const r of scheduler.runs(`t${i}`, 100)) {
          const a = r.actions[0];
          if (a === undefined || r.ended === null) continue;
          starts.push(a.startedAt - r.slot);
          latestEnd = Math.max(latestEnd, r.ended - r.slot);
          if (r.status !== "ok") failed++;
        }
      }
      starts.sort((a, b) => a - b);
      await client.endAsync();
      db.close();
      return {
        runs: starts.length,
        latestStartMs: starts[starts.length - 1] ?? Number.NaN,
        medianStartMs: starts[Math.floor(starts.length / 2)] ?? Number.NaN,
        p99StartMs: starts[Math.floor(starts.length * 0.99)] ?? Number.NaN,
        latestEndMs: latestEnd,
        failed,
      };
    },
  };
}

export default async function bench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "ea-bench-tasks-"));
  const broker = await startBroker(undefined, { profile: "throughput" });
  try {
    await ingest(); // warm-up (JIT)
    await (await fireTasks(root, broker.url, -1)).stop(); // warm-up: the scheduler and the MQTT client's code paths
    const rounds: { base: number; fired: number; firing: Awaited<ReturnType<Firing["stop"]>> }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const base = await ingest();
      const firing = await fireTasks(root, broker.url, i);
      const fired = await ingest();
      rounds.push({ base, fired, firing: await firing.stop() });
    }
    rounds.sort((a, b) => a.fired / a.base - b.fired / b.base);
    const mid = rounds[Math.floor(ROUNDS / 2)] as (typeof rounds)[number];
    const latest = Math.max(...rounds.map((r) => r.firing.latestStartMs));
    const p99 = Math.max(...rounds.map((r) => r.firing.p99StartMs));
    const runs = rounds.reduce((s, r) => s + r.firing.runs, 0);
    const failed = rounds.reduce((s, r) => s + r.firing.failed, 0);
    console.log(
      `tasks.latest_start_delay_ms: ${latest.toFixed(1)} (target <= 1000; ${TASKS} tasks due in the same second, every second, mqtt.publish to ${broker.kind}; median ${mid.firing.medianStartMs.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; latest run end ${Math.max(...rounds.map((r) => r.firing.latestEndMs)).toFixed(0)} ms after its slot; ${runs} runs, ${failed} not ok)`,
    );
    const ratios = rounds.map((r) => (r.fired / r.base).toFixed(2)).join(" ");
    console.log(
      `tasks.ingest_readings_per_s_while_firing: ${Math.round(mid.fired)} (baseline no tasks: ${Math.round(mid.base)}, ratio ${(mid.fired / mid.base).toFixed(2)}, target >= 0.8; ${OFFERED_PER_S}/s offered on a ${TICK_MS} ms timer to the pipeline with ${RULES} rules; median of ${ROUNDS} rounds [${ratios}])`,
    );
  } finally {
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
