// End-to-end pipeline benchmark (the figures the agent is held to): readings/s through MQTT
// ingestion and 100 rules beside a bare mqtt.js subscriber, publish → committed-alarm latency at
// 5,000 readings/s, and resident memory with 10,000 devices. Real mosquitto on a free port, the
// publisher always in its own process (pipeline-publisher.ts), the agent in-process (memory: in
// a child with --expose-gc, pipeline-memory-child.mjs). The workload is in pipeline-workload.ts.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, sep } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import mqtt from "mqtt";
import { startBroker, type TestBroker } from "../../test/helpers/broker.js";
import { waitFor } from "../../test/helpers/wait.js";
import {
  CROSSING_RULES,
  crossingFields,
  deviceId,
  isCrossing,
  NORMAL,
  type Pattern,
  type PublishPlan,
  type PublishResult,
  RULES,
  rulesDocument,
  wallNow,
} from "./pipeline-workload.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const REPO = resolve(import.meta.dirname, "../..");
const PUBLISHER = join(import.meta.dirname, "pipeline-publisher.ts");
const MEMORY_CHILD = join(import.meta.dirname, "pipeline-memory-child.mjs");

const DEVICES = 1000;
/** Messages per throughput burst (100 per device). */
const BURST = 60_000;
const WARMUP = 10_000;
const LATENCY_RATE = 5000;
const LATENCY_SECONDS = 8;
const BASE_LATENCY_SECONDS = 4;
const MEM_DEVICES = 10_000;
const MEM_ROUNDS = 3;
/** The agent listens on `bench/+/telemetry`, the bare subscriber on `base/+/telemetry`: both stay
 *  connected for the whole run and each burst goes to one of them only. */
const AGENT_PREFIX = "bench";
const BASE_PREFIX = "base";
/** Interleaved measuring rounds (bare, agent, agent steady); medians are reported. */
const ROUNDS = 3;
/** Readings that let the agent settle after the crossing pattern changes (two per device). */
const SWITCH = 2 * DEVICES;
/** The agent with ten hooks in its hooksDir listens on `hook/+/telemetry`. */
const HOOKED_PREFIX = "hook";
const TRIVIAL_HOOKS = 9;
/** hooks.queueSize of the second hooked agent: holds a whole burst (plus the switch readings). */
const BIG_HOOK_QUEUE = 100_000;

/** Every child process this bench started and that has not exited: killed if the bench process
 *  exits without reaching its own cleanup (a crash must not leave a broker running). */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  child.once("error", () => children.delete(child));
  return child;
}

// ---------------------------------------------------------------------------------------------
// Publisher: pipeline-publisher.ts in its own process.

interface Publisher {
  run(plan: PublishPlan): Promise<PublishResult>;
  close(): Promise<void>;
}

/** Starts the publisher child and waits until it is connected to the broker. */
async function startPublisher(url: string): Promise<Publisher> {
  const child = spawn(process.execPath, ["--import", "tsx", PUBLISHER, url], {
    cwd: REPO,
    stdio: ["pipe", "pipe", "pipe"],
  });
  track(child);
  const stderr: string[] = [];
  child.stderr.on("data", (b: Buffer) => stderr.push(b.toString()));
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  let waiter: ((l: string | null) => void) | null = null;
  lines.on("line", (l) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(l);
    } else queue.push(l);
  });
  const exited = new Promise<void>((res) => {
    child.once("exit", () => res());
    child.once("error", () => res());
  });
  void exited.then(() => waiter?.(null));
  const died = () => new Error(`publisher exited: ${firstError(stderr.join(""))}`);
  const nextLine = (timeoutMs: number): Promise<string> =>
    new Promise((res, rej) => {
      const q = queue.shift();
      if (q !== undefined) return res(q);
      if (child.exitCode !== null) return rej(died());
      const t = setTimeout(() => {
        waiter = null;
        rej(new Error(`publisher silent for ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = (l) => {
        clearTimeout(t);
        if (l === null) rej(died());
        else res(l);
      };
    });
  try {
    const ready = await nextLine(20_000);
    if (ready !== "ready") throw new Error(`publisher said '${ready}'`);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    async run(plan) {
      child.stdin.write(`${JSON.stringify(plan)}\n`);
      return JSON.parse(await nextLine(60_000)) as PublishResult;
    },
    async close() {
      if (child.exitCode !== null) return;
      child.stdin.write("quit\n");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Broker: mosquitto (test/helpers/broker.ts) in its "throughput" profile: unbounded per-client
// queues, so QoS 0 bursts are not dropped by the broker when a subscriber lags (the figure would
// otherwise measure the drop), and Nagle off. Never aedes: the figures are against mosquitto.

// ---------------------------------------------------------------------------------------------
// Measuring.

/** Polls a counter every ms until `expected` or a 1.5 s stall; rate over first→last change. */
function measureRate(count: () => number, expected: number): Promise<{ received: number; perSec: number }> {
  const base = count();
  return new Promise((res) => {
    let firstAt = 0;
    let firstCount = 0;
    let lastAt = 0;
    let lastCount = base;
    const startedAt = performance.now();
    const t = setInterval(() => {
      const c = count() - base;
      const now = performance.now();
      if (c !== lastCount - base) {
        if (firstAt === 0) {
          firstAt = now;
          firstCount = c;
        }
        lastAt = now;
        lastCount = c + base;
      }
      const stalled = firstAt === 0 ? now - startedAt > 15_000 : now - lastAt > 1500;
      if (c >= expected || stalled) {
        clearInterval(t);
        const span = lastAt - firstAt;
        res({ received: c, perSec: span > 0 ? ((c - firstCount) * 1000) / span : 0 });
      }
    }, 1);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

const round = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");

/** A bare mqtt.js subscriber that only JSON-parses: the ceiling the agent is compared with. */
async function bareSubscriber(url: string, prefix: string) {
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-bare-${process.pid}`,
    clean: true,
    reconnectPeriod: 0,
  });
  await client.subscribeAsync(`${prefix}/+/telemetry`, { qos: 0 });
  let count = 0;
  let parsedKeys = 0;
  let latencies: number[] | null = null;
  client.on("message", (_topic, payload) => {
    const doc = JSON.parse(payload.toString()) as Record<string, unknown>;
    count++;
    parsedKeys += doc.voltage === undefined ? 0 : 1;
    if (latencies !== null && typeof doc.sent === "number") latencies.push(wallNow() - doc.sent);
  });
  return {
    count: () => count,
    parsed: () => parsedKeys,
    recordLatency: (on: boolean) => {
      latencies = on ? [] : null;
    },
    latencies: () => latencies ?? [],
    close: () => client.endAsync(),
  };
}

// ---------------------------------------------------------------------------------------------
// The agent under test, built from a config file so loadConfig applies the defaults.

type AgentModule = typeof import("../../src/app.js");
type Agent = ReturnType<AgentModule["createAgent"]>;

/** Per-agent counters the bench hooks bump on globalThis (the hook modules run in this process). */
interface HookTally {
  calls: number;
  slow: number;
}
const hookTallies = (): Record<string, HookTally> => {
  const g = globalThis as unknown as { __benchHooks?: Record<string, HookTally> };
  g.__benchHooks ??= {};
  return g.__benchHooks;
};

/** Ten observer hooks: nine trivial (count every reading), one taking 50 ms per call. `tag` names
 *  the agent's tally on globalThis. */
function writeBenchHooks(dir: string, tag: string): void {
  hookTallies()[tag] = { calls: 0, slow: 0 };
  const tally = `globalThis.__benchHooks[${JSON.stringify(tag)}]`;
  for (let i = 0; i < TRIVIAL_HOOKS; i++) {
    writeFileSync(
      join(dir, `observer-${i}.mjs`),
      `let count = 0;\nexport default { onReading(reading, device, ctx) { count++; ${tally}.calls++; } };\n`,
    );
  }
  writeFileSync(
    join(dir, "slow.mjs"),
    `export default { async onReading() { ${tally}.slow++; await new Promise((r) => setTimeout(r, 50)); } };\n`,
  );
}

/** The hooks of an agent under test: none (empty hooksDir) or the ten bench hooks with an optional
 *  hooks.queueSize. */
interface HookSetup {
  tag: string;
  queueSize?: number;
}

/** Writes the rules and the config of the agent under test into `dir`; returns the config file.
 *  With `hooks` the hooks directory holds the ten bench hooks instead of nothing. */
function writeAgentFiles(url: string, dir: string, prefix = AGENT_PREFIX, hooks?: HookSetup): string {
  for (const d of ["data", "rules", "hooks"]) mkdirSync(join(dir, d), { recursive: true });
  if (hooks) writeBenchHooks(join(dir, "hooks"), hooks.tag);
  writeFileSync(join(dir, "rules", "bench.json"), JSON.stringify(rulesDocument(), null, 1));
  const file = join(dir, "agent.json");
  writeFileSync(
    file,
    JSON.stringify({
      gatewayId: "bench",
      dataDir: "./data",
      rulesDir: "./rules",
      hooksDir: "./hooks",
      ...(hooks?.queueSize ? { hooks: { queueSize: hooks.queueSize } } : {}),
      mqtt: {
        url,
        clientId: `bench-agent-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
        subscriptions: [{ topic: `${prefix}/+/telemetry`, qos: 0, device: "{1}", product: "meter", values: "$" }],
      },
      http: { enabled: false },
    }),
  );
  return file;
}

async function buildAgent(url: string, dir: string, prefix = AGENT_PREFIX, hooks?: HookSetup): Promise<Agent> {
  const file = writeAgentFiles(url, dir, prefix, hooks);
  const { loadConfig } = await import("../../src/config/load.js");
  const loaded = await loadConfig(file, process.env, { cwd: dir });
  if (loaded.config === null) {
    throw new Error(`bench config rejected: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  }
  const { createAgent } = (await import("../../src/app.js")) as AgentModule;
  const { systemClock } = await import("../../src/core/clock.js");
  const { silentLogger } = await import("../../src/core/log.js");
  return createAgent(loaded.config, { clock: systemClock, log: silentLogger(), version: "bench" });
}

function readingsCounter(agent: Agent): () => number {
  const h = agent.metrics.counter("edge_readings_total", "Readings ingested, by source").bind({ source: "mqtt" });
  return () => h.get();
}

function evaluationsCounter(agent: Agent): () => number {
  return () => agent.rules.evaluations;
}

interface BurstResult {
  received: number;
  perSec: number;
  publishedPerSec: number;
}

/** Publishes a burst and measures the rate at which `count` follows it. */
async function burst(
  pub: Publisher,
  prefix: string,
  count: () => number,
  n: number,
  pattern: Pattern = "churn",
): Promise<BurstResult> {
  const measuring = measureRate(count, n);
  const sent = await pub.run({ prefix, devices: DEVICES, count: n, rate: 0, stamp: false, pattern });
  const got = await measuring;
  return { ...got, publishedPerSec: (sent.sent * 1000) / sent.ms };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1] as number);
};

// ---------------------------------------------------------------------------------------------
// Memory (child process): resident set after 10,000 devices × 3 readings. The child runs the
// compiled agent from dist/ on plain node when dist is up to date (as on a site), so the figure
// does not include the TypeScript loader (~30 MB); otherwise it runs src/ through tsx and says so.

interface MemoryReport {
  idleRssMb: number;
  rssMb: number;
  heapUsedMb: number;
  received: number;
  devices: number;
}

/** "fresh": every src/*.ts has a dist/*.js at least as new; "stale": all there, some older (an
 *  edit since the last build); "missing": never built or incomplete. */
function distState(): "fresh" | "stale" | "missing" {
  const src = join(REPO, "src");
  let stale = false;
  try {
    for (const rel of readdirSync(src, { recursive: true }) as string[]) {
      if (!rel.endsWith(".ts") || rel.endsWith(".d.ts")) continue;
      const js = join(REPO, "dist", rel.replace(/\.ts$/, ".js"));
      if (!existsSync(js)) return "missing";
      if (statSync(js).mtimeMs < statSync(join(src, rel)).mtimeMs) stale = true;
    }
    return stale ? "stale" : "fresh";
  } catch {
    return "missing";
  }
}

async function measureMemory(pub: Publisher, url: string, dir: string): Promise<MemoryReport & { runtime: string }> {
  const expected = MEM_DEVICES * MEM_ROUNDS;
  const file = writeAgentFiles(url, dir);
  const dist = distState();
  const fromDist = dist !== "missing";
  const root = pathToFileURL(join(REPO, fromDist ? "dist" : "src") + sep).href;
  const args = ["--expose-gc", ...(fromDist ? [] : ["--import", "tsx"]), MEMORY_CHILD];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, BENCH_MEMORY: JSON.stringify({ file, dir, expected, root, ext: fromDist ? ".js" : ".ts" }) },
  });
  track(child);
  const stderr: string[] = [];
  child.stderr.on("data", (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<void>((res) => {
    child.once("exit", () => res());
    child.once("error", () => res());
  });
  const lines = createInterface({ input: child.stdout });
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    let report: MemoryReport | null = null;
    for await (const line of lines) {
      let msg: { ready?: boolean } & Partial<MemoryReport>;
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      if (msg.ready) {
        await pub.run({
          prefix: AGENT_PREFIX,
          devices: MEM_DEVICES,
          count: expected,
          rate: 0,
          stamp: false,
          pattern: "churn",
        });
      } else if (msg.rssMb !== undefined) {
        report = msg as MemoryReport;
      }
    }
    await exited;
    if (report === null) throw new Error(`memory child failed: ${firstError(stderr.join(""))}`);
    const runtime =
      dist === "fresh"
        ? "compiled dist/ on node"
        : dist === "stale"
          ? "compiled dist/ on node, older than some src/ edits (npm run build)"
          : "src/ through tsx, no dist/: includes ~30 MB of loader";
    return { ...report, runtime };
  } finally {
    clearTimeout(guard);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------------------------------------

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "edge-agent-bench-pipeline-"));
  const print = (line: string) => console.log(line);
  // Last resort when the process exits without the finally below (crash, process.exit elsewhere).
  let broker: TestBroker | null = null;
  const onExit = () => {
    for (const c of children) c.kill("SIGKILL");
    // kill() signals synchronously; nothing after this exit handler waits for it.
    void broker?.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  try {
    try {
      broker = await startBroker("mosquitto", { profile: "throughput" });
    } catch (err) {
      const why = (err as Error).message;
      for (const n of ["readings_per_s", "alarm_latency_p99_ms", "rss_10k_devices_mb"])
        print(`pipeline.${n}: unavailable: ${why}`);
      return;
    }
    const url = broker.url;
    const pub = await startPublisher(url);
    try {
      await measureAll(pub, url, dir, print);
    } finally {
      await pub.close();
    }
  } finally {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", onExit);
  }
}

async function measureAll(pub: Publisher, url: string, dir: string, print: (line: string) => void): Promise<void> {
  const paced = async (prefix: string, seconds: number): Promise<PublishResult> => {
    const r = await pub.run({
      prefix,
      devices: DEVICES,
      count: LATENCY_RATE * seconds,
      rate: LATENCY_RATE,
      stamp: true,
      pattern: "churn",
    });
    await new Promise((res) => setTimeout(res, 200));
    return r;
  };

  const bare = await bareSubscriber(url, BASE_PREFIX);
  let agent: Agent | null = null;
  let agentWhy = "";
  try {
    agent = await buildAgent(url, join(dir, "agent"));
    await agent.start();
    const loaded = agent.rules.rules().length;
    if (loaded !== RULES) throw new Error(`${loaded} of ${RULES} rules loaded`);
  } catch (err) {
    agentWhy = `agent did not start: ${(err as Error).message.split("\n")[0]}`;
    await agent?.stop().catch(() => undefined);
    agent = null;
  }

  try {
    const count = agent ? readingsCounter(agent) : () => 0;
    const evals = agent ? evaluationsCounter(agent) : () => 0;
    let alarms = 0;
    agent?.events.on("alarmCreated", () => {
      alarms++;
    });
    // The alarms raised by the last readings of a burst commit a few ms after it (batch window):
    // wait for them so that they are not counted in the next burst.
    const quiet = async (): Promise<void> => {
      let last = -1;
      for (let i = 0; i < 50 && alarms !== last; i++) {
        last = alarms;
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    await burst(pub, BASE_PREFIX, bare.count, WARMUP);
    if (agent) {
      const warm = await burst(pub, AGENT_PREFIX, count, WARMUP);
      if (warm.received === 0) {
        // Nothing to measure (and every burst would wait for the stall timeout).
        agentWhy = `the agent counted ${warm.received} of ${WARMUP} warm-up readings (edge_readings_total{source="mqtt"})`;
        await agent.stop();
        agent = null;
      }
    }

    // Latency first, on an agent that has only seen the warm-up: the figure is the steady state at
    // 5,000 readings/s, not the recovery from the 100,000-reading bursts below (see the docs).
    // Baseline: the bare subscriber's own publish → receive time at the same rate.
    bare.recordLatency(true);
    await paced(BASE_PREFIX, BASE_LATENCY_SECONDS);
    const bareLat = [...bare.latencies()].sort((x, y) => x - y);
    bare.recordLatency(false);
    const bareP99 = percentile(bareLat, 0.99);
    if (agent === null) {
      print(
        `pipeline.alarm_latency_p99_ms: unavailable: ${agentWhy} (baseline bare subscriber publish→receive p99: ${round(bareP99, 2)} ms)`,
      );
    } else {
      // publish → alarmCreated, which the alarm service emits only after the commit. Only crossing
      // readings carry `sent`, and the device keeps the last value of a metric, so at alarm time
      // `sent` is the stamp of the reading that raised it.
      const latencies: number[] = [];
      const seen = new Set<number>();
      const off = agent.events.on("alarmCreated", (_alarm, device) => {
        const sent = device.values.sent;
        if (typeof sent === "number" && !seen.has(sent)) {
          seen.add(sent);
          latencies.push(wallNow() - sent);
        }
      });
      const pacedResult = await paced(AGENT_PREFIX, LATENCY_SECONDS);
      await settled(() => latencies.length >= pacedResult.crossing, 2000, "an alarm for every crossing reading");
      off();
      latencies.sort((x, y) => x - y);
      const p99 = percentile(latencies, 0.99);
      if (latencies.length === 0)
        print(
          `pipeline.alarm_latency_p99_ms: unavailable: none of the ${pacedResult.crossing} crossing readings raised an alarm (no alarmCreated event)`,
        );
      else
        print(
          `pipeline.alarm_latency_p99_ms: ${round(p99, 2)} (baseline bare subscriber publish→receive p99: ${round(bareP99, 2)} ms, ratio ${round(p99 / bareP99, 1)}; p50 ${round(percentile(latencies, 0.5), 2)} ms, max ${round(latencies.at(-1) ?? Number.NaN, 1)} ms; ${latencies.length}/${pacedResult.crossing} alarms at ${Math.round((pacedResult.sent * 1000) / pacedResult.ms)} readings/s; target <= 20)`,
        );
    }

    // Throughput: interleaved rounds so that load from anything else on the machine hits both sides.
    const bareRuns: BurstResult[] = [];
    const churnRuns: BurstResult[] = [];
    const steadyRuns: BurstResult[] = [];
    let churnAlarms = 0;
    let steadyAlarms = 0;
    let evalsPerReading = Number.NaN;
    for (let r = 0; r < ROUNDS; r++) {
      bareRuns.push(await burst(pub, BASE_PREFIX, bare.count, BURST));
      if (!agent) continue;
      await burst(pub, AGENT_PREFIX, count, SWITCH, "churn");
      await quiet();
      const e0 = evals();
      const a0 = alarms;
      const churn = await burst(pub, AGENT_PREFIX, count, BURST, "churn");
      churnRuns.push(churn);
      evalsPerReading = (evals() - e0) / churn.received;
      churnAlarms += alarms - a0;
      await burst(pub, AGENT_PREFIX, count, SWITCH, "steady");
      await quiet();
      const a1 = alarms;
      steadyRuns.push(await burst(pub, AGENT_PREFIX, count, BURST, "steady"));
      steadyAlarms += alarms - a1;
    }
    const bareRate = median(bareRuns.map((x) => x.perSec));
    const bareText = `baseline bare mqtt.js subscriber + JSON.parse: ${Math.round(bareRate)}`;
    const rounds = (xs: BurstResult[]) => xs.map((x) => Math.round(x.perSec)).join("/");
    const ratios = (xs: BurstResult[]) => median(xs.map((x, i) => x.perSec / (bareRuns[i] as BurstResult).perSec));

    if (agent === null) {
      print(`pipeline.readings_per_s: unavailable: ${agentWhy} (${bareText})`);
      print(`pipeline.rule_evaluations_per_s: unavailable: ${agentWhy}`);
    } else {
      const churnRate = median(churnRuns.map((x) => x.perSec));
      const steadyRate = median(steadyRuns.map((x) => x.perSec));
      const received = churnRuns.reduce((n, x) => n + x.received, 0);
      print(
        `pipeline.readings_per_s: ${Math.round(churnRate)} (${bareText}, ratio ${round(ratios(churnRuns), 2)}; target >= 0.7; median of ${ROUNDS} interleaved rounds, agent ${rounds(churnRuns)}, bare ${rounds(bareRuns)} with the publisher at ${Math.round(median(bareRuns.map((x) => x.publishedPerSec)))}/s; ${received}/${ROUNDS * BURST} received; ${churnAlarms} alarms raised and resolved)`,
      );
      print(
        `pipeline.readings_per_s_steady_alarms: ${Math.round(steadyRate)} (${bareText}, ratio ${round(ratios(steadyRuns), 2)}; same 10% of devices always crossing, ${steadyAlarms} new alarms; agent ${rounds(steadyRuns)})`,
      );
      const direct = ingestDirect(agent, BURST);
      print(
        `pipeline.ingest_per_s_direct: ${Math.round(direct)} (baseline the same steady readings over MQTT: ${Math.round(steadyRate)}, ratio ${round(direct / steadyRate, 2)}; readings built in-process and handed to Pipeline.ingest, no broker, no JSON)`,
      );
      print(
        `pipeline.rule_evaluations_per_s: ${Math.round(evalsPerReading * churnRate)} inside the pipeline during the burst (${round(evalsPerReading, 0)} per reading; the isolated engine beside json-rules-engine is rules.compiled_evals_per_s)`,
      );
      for (const line of await measureHooks(pub, url, join(dir, "hooked"), agent, count, quiet)) print(line);
    }
  } finally {
    await bare.close();
    await agent?.stop();
  }

  try {
    const mem = await measureMemory(pub, url, join(dir, "memory"));
    print(
      `pipeline.rss_10k_devices_mb: ${round(mem.rssMb)} (baseline idle agent, 100 rules, no devices: ${round(mem.idleRssMb)} MB, ratio ${round(mem.rssMb / mem.idleRssMb, 2)}; heap used ${round(mem.heapUsedMb)} MB; ${mem.devices} devices, ${mem.received} readings; ${mem.runtime}; target <= 150)`,
    );
  } catch (err) {
    print(`pipeline.rss_10k_devices_mb: unavailable: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** An agent with the ten bench hooks, its readings counter and its own alarm quiet-wait. */
interface HookedAgent {
  agent: Agent;
  prefix: string;
  tag: string;
  queueSize: number;
  count: () => number;
  quiet: () => Promise<void>;
  runs: BurstResult[];
}

async function startHooked(url: string, dir: string, prefix: string, queueSize?: number): Promise<HookedAgent> {
  const agent = await buildAgent(url, dir, prefix, queueSize ? { tag: prefix, queueSize } : { tag: prefix });
  await agent.start();
  const infos = agent.hooks?.list() ?? [];
  const running = infos.filter((h) => h.state === "running" && h.methods.includes("onReading")).length;
  if (running !== TRIVIAL_HOOKS + 1) {
    const states = infos.map((h) => `${h.name}=${h.state}${h.lastError ? ` (${h.lastError})` : ""}`).join(", ");
    await agent.stop();
    throw new Error(`${running} of ${TRIVIAL_HOOKS + 1} hooks running with onReading [${states}]`);
  }
  let alarms = 0;
  agent.events.on("alarmCreated", () => {
    alarms++;
  });
  const quiet = async (): Promise<void> => {
    let last = -1;
    for (let i = 0; i < 50 && alarms !== last; i++) {
      last = alarms;
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  return { agent, prefix, tag: prefix, queueSize: queueSize ?? 1000, count: readingsCounter(agent), quiet, runs: [] };
}

/** Steady-alarm throughput of agents with ten hooks in their hooksDir (nine trivial observers, one
 *  sleeping 50 ms per call) against the agent above with an empty hooksDir: same broker, publisher
 *  and rules, interleaved rounds, median of the per-round ratios. Two hooked agents: the default
 *  hooks.queueSize (1,000), and one whose queues hold a whole burst, so that the trivial hooks see
 *  every reading and the figure includes calling them all. Checks that the hooks were loaded and
 *  called: delivered + dropped must account for every reading the hooked agent ingested. */
async function measureHooks(
  pub: Publisher,
  url: string,
  dir: string,
  plain: Agent,
  plainCount: () => number,
  plainQuiet: () => Promise<void>,
): Promise<string[]> {
  const names = ["pipeline.readings_per_s_with_10_hooks", "pipeline.readings_per_s_with_10_hooks_no_drops"];
  const unavailable = (why: string) => names.map((n) => `${n}: unavailable: ${why}`);
  const plainHooks = plain.hooks?.list().length ?? 0;
  if (plainHooks !== 0) return unavailable(`the baseline agent has ${plainHooks} hooks loaded`);
  const hooked: HookedAgent[] = [];
  try {
    hooked.push(await startHooked(url, join(dir, "default"), HOOKED_PREFIX));
    hooked.push(await startHooked(url, join(dir, "big"), `${HOOKED_PREFIX}q`, BIG_HOOK_QUEUE));
    // Warm-up in the steady pattern: raises the steady alarms once, as the baseline agent has.
    for (const h of hooked) {
      await burst(pub, h.prefix, h.count, WARMUP, "steady");
      await h.quiet();
    }
    const plainRuns: BurstResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await burst(pub, AGENT_PREFIX, plainCount, SWITCH, "steady");
      await plainQuiet();
      plainRuns.push(await burst(pub, AGENT_PREFIX, plainCount, BURST, "steady"));
      for (const h of hooked) {
        await burst(pub, h.prefix, h.count, SWITCH, "steady");
        await h.quiet();
        h.runs.push(await burst(pub, h.prefix, h.count, BURST, "steady"));
      }
    }
    const plainRate = median(plainRuns.map((x) => x.perSec));
    const lines: string[] = [];
    for (const [i, h] of hooked.entries()) {
      const tally = hookTallies()[h.tag] as HookTally;
      const ingested = h.count();
      const expected = TRIVIAL_HOOKS * ingested;
      const list = () => h.agent.hooks?.list() ?? [];
      const trivialDropped = (): number => list().reduce((n, x) => n + (x.name === "slow" ? 0 : x.dropped), 0);
      // The trivial hooks drain their queues on later event-loop turns: let them finish.
      await settled(() => tally.calls + trivialDropped() >= expected, 5000, "the trivial hooks' queues to drain");
      const after = list();
      const slow = after.find((x) => x.name === "slow");
      const running = after.filter((x) => x.state === "running").length;
      const errors = after.reduce((n, x) => n + x.errors + x.timeouts, 0);
      const rate = median(h.runs.map((x) => x.perSec));
      const ratio = median(h.runs.map((x, k) => x.perSec / (plainRuns[k] as BurstResult).perSec));
      const rounds = (xs: BurstResult[]) => xs.map((x) => Math.round(x.perSec)).join("/");
      const received = h.runs.reduce((n, x) => n + x.received, 0);
      const target = i === 0 ? ", target >= 0.8" : "";
      lines.push(
        `${names[i]}: ${Math.round(rate)} (baseline no hooks: ${Math.round(plainRate)}, ratio ${round(ratio, 2)}${target}; hooks.queueSize ${h.queueSize}; steady alarms, median of ${ROUNDS} interleaved rounds, hooked ${rounds(h.runs)}, none ${rounds(plainRuns)}; ${received}/${ROUNDS * BURST} received; ${running}/${TRIVIAL_HOOKS + 1} hooks running; ${TRIVIAL_HOOKS} trivial hooks delivered ${tally.calls}/${expected} (${TRIVIAL_HOOKS} × ${ingested} readings), dropped ${trivialDropped()}; slow hook (50 ms/call) delivered ${tally.slow}, dropped ${slow?.dropped ?? 0}; hook errors+timeouts ${errors})`,
      );
    }
    return lines;
  } catch (err) {
    return unavailable((err as Error).message.split("\n")[0] ?? "");
  } finally {
    for (const h of hooked) await h.agent.stop();
  }
}

/** Steady-pattern readings straight into the pipeline (what the MQTT source hands it, one fresh
 *  values object per reading as the mapper makes): the cost of ingest + rules + alarm observe alone. */
function ingestDirect(agent: Agent, n: number): number {
  const crossing: Record<string, number>[] = [];
  for (let k = 0; k < CROSSING_RULES; k++) crossing.push(numericValues({ ...NORMAL, ...crossingFields(k) }));
  const normal = numericValues(NORMAL);
  const ids: string[] = [];
  for (let d = 0; d < DEVICES; d++) ids.push(deviceId(d));
  const t0 = performance.now();
  for (let seq = 0; seq < n; seq++) {
    const d = seq % DEVICES;
    const src = isCrossing(seq, DEVICES, "steady")
      ? (crossing[Math.floor(d / 10) % CROSSING_RULES] as Record<string, number>)
      : normal;
    agent.pipeline.ingest({
      deviceId: ids[d] as string,
      product: "meter",
      ts: Date.now(),
      values: { ...src },
      source: "mqtt",
    });
  }
  return (n * 1000) / (performance.now() - t0);
}

function numericValues(doc: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(doc)) if (typeof v === "number") out[k] = v;
  return out;
}

/** The line of a child's stderr that says what went wrong (not the stack frame above it). */
function firstError(text: string): string {
  const lines = text.split("\n").map((l) => l.trim());
  return lines.find((l) => /^\w*Error\b|^Error:/.test(l)) ?? lines.find((l) => l !== "") ?? "no output";
}

/** Waits for `probe` up to a deadline; past it the figure is reported with what did arrive (the
 *  report line says how many), so a timeout is not an error here. */
async function settled(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await waitFor(probe, { timeoutMs, intervalMs: 10, what }).catch(() => undefined);
}

// `node --import tsx scripts/bench/pipeline.ts` runs this area alone.
if (process.argv[1] === THIS_FILE) await bench();
