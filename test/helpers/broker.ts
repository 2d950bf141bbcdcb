// A real MQTT broker for tests and benches: mosquitto on a free 127.0.0.1 port when installed
// (own config and persistence in a temp dir, so restart() keeps sessions), else the embedded aedes
// broker. EDGE_TEST_BROKER=aedes|mosquitto forces a kind. Always stop() in teardown.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/core/log.js";
import { EmbeddedBroker } from "../../src/sources/mqtt/embedded-broker.js";
import { freePort, waitFor } from "./wait.js";

export type BrokerKind = "mosquitto" | "aedes";

export interface TestBroker {
  url: string;
  port: number;
  kind: BrokerKind;
  /** Final teardown: stops the broker and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Takes the broker down gracefully (mosquitto: SIGTERM, which saves its persistence file); restart() brings it back. */
  down(): Promise<void>;
  /** Starts again on the same port (stopping it first if running). mosquitto keeps sessions; aedes starts empty. */
  restart(): Promise<void>;
  /** Hard stop (mosquitto: SIGKILL); restart() brings it back. */
  kill(): Promise<void>;
}

const MOSQUITTO_PATHS = [
  "/usr/sbin/mosquitto",
  "/usr/bin/mosquitto",
  "/usr/local/sbin/mosquitto",
  "/usr/local/bin/mosquitto",
];

/** mosquitto settings (aedes ignores them). */
export interface BrokerOptions {
  /**
   * "sessions" (default): persistence on and generous per-client queues, so restart() keeps
   * sessions and tests can publish while the agent is down. "throughput" (benches): no
   * persistence, unbounded queues so a lagging QoS 0 subscriber loses nothing (a figure would
   * otherwise measure the broker's drops), and Nagle off on the broker's sockets (it would add
   * up to 40 ms to every forwarded message).
   */
  profile?: "sessions" | "throughput";
}

export function mosquittoPath(): string | null {
  for (const p of MOSQUITTO_PATHS) {
    const r = spawnSync(p, ["-h"], { stdio: "ignore" });
    if (r.error === undefined) return p;
  }
  return null;
}

/** The broker kinds available on this machine, the preferred one first. */
export function availableKinds(): BrokerKind[] {
  const forced = process.env.EDGE_TEST_BROKER;
  if (forced === "aedes" || forced === "mosquitto") return [forced];
  return mosquittoPath() ? ["mosquitto", "aedes"] : ["aedes"];
}

export async function startBroker(kind?: BrokerKind, opts: BrokerOptions = {}): Promise<TestBroker> {
  const want = kind ?? availableKinds()[0] ?? "aedes";
  return want === "mosquitto" ? startMosquitto(opts) : startAedes();
}

function mosquittoSettings(profile: NonNullable<BrokerOptions["profile"]>, dir: string): string[] {
  if (profile === "throughput") {
    return [
      "persistence false",
      "max_queued_messages 0",
      "max_queued_bytes 0",
      "max_inflight_messages 0",
      "set_tcp_nodelay true",
      "log_dest stderr",
      "log_type error",
    ];
  }
  return [
    "persistence true",
    `persistence_location ${dir}/`,
    "persistence_file mosquitto.db",
    "log_dest none",
    // Queue generously for offline persistent sessions (tests publish while the agent is down).
    "max_queued_messages 100000",
  ];
}

async function startAedes(): Promise<TestBroker> {
  let broker = new EmbeddedBroker({ port: 0, log: silentLogger() });
  await broker.start();
  const port = broker.port;
  let running = true;
  const stop = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await broker.stop();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kind: "aedes",
    stop,
    down: stop,
    kill: stop,
    restart: async () => {
      await stop();
      broker = new EmbeddedBroker({ port, log: silentLogger() });
      await broker.start();
      running = true;
    },
  };
}

async function startMosquitto(opts: BrokerOptions): Promise<TestBroker> {
  const bin = mosquittoPath();
  if (!bin) throw new Error("mosquitto is not installed");
  const dir = await mkdtemp(join(tmpdir(), "edge-mosq-"));
  const port = await freePort();
  const conf = join(dir, "mosquitto.conf");
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      ...mosquittoSettings(opts.profile ?? "sessions", dir),
      "",
    ].join("\n"),
  );
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const c = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child = c;
    try {
      await waitFor(
        () => {
          if (c.exitCode !== null) throw new Error(`mosquitto exited ${c.exitCode}: ${stderr.trim()}`);
          return canConnect(port);
        },
        { timeoutMs: 5000, what: `mosquitto listening on ${port}` },
      );
    } catch (err) {
      // A broker that never listened must not outlive the test or bench that started it.
      c.kill("SIGKILL");
      child = null;
      throw err;
    }
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child as ChildProcess | null;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill(signal);
    await exited;
  };

  await launch();
  let removed = false;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kind: "mosquitto",
    stop: async () => {
      await halt("SIGTERM");
      if (!removed) {
        removed = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
    down: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    restart: async () => {
      await halt("SIGTERM");
      await launch();
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
