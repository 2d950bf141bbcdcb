// MQTT ingestion benchmark: N JSON meter messages (QoS 0) from D devices, published as fast as possible
// by a separate process, received (a) by a bare mqtt.js subscriber that only JSON.parses and (b) by
// MqttSource mapping them into a no-op sink. Prints both rates and their ratio, for numeric meter
// messages and for messages where a third of the values are strings, arrays or objects.
// Env: EDGE_BENCH_MQTT_N (default 200000), EDGE_BENCH_MQTT_DEVICES (default 1000), EDGE_TEST_BROKER.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";
import { resolveMqtt } from "../../src/config/defaults.js";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import type { ReadingSink } from "../../src/core/ports.js";
import { MqttSource } from "../../src/sources/mqtt/source.js";
import { startBroker } from "../../test/helpers/broker.js";
import { testBus, testMetrics } from "../../test/helpers/harness.js";

const TOPIC_PREFIX = "bench/meters";

export function meterPayload(i: number, device: number): string {
  return JSON.stringify({
    ts: 1_767_225_600_000 + i,
    voltage: 220 + (i % 20),
    current: 10 + (device % 7) / 10,
    power_kw: 2.2 + (i % 13) / 100,
    energy_kwh: 1000 + i / 100,
    breaker_on: true,
    fw: "1.4.2",
  });
}

/** A PLC message: 6 numbers/booleans and 3 strings, arrays or objects (a third of its values). */
export function mixedPayload(i: number, device: number): string {
  return JSON.stringify({
    ts: 1_767_225_600_000 + i,
    voltage: 220 + (i % 20),
    current: 10 + (device % 7) / 10,
    power_kw: 2.2 + (i % 13) / 100,
    energy_kwh: 1000 + i / 100,
    freq: 50 + (i % 5) / 100,
    breaker_on: true,
    state: i % 17 === 0 ? "fault" : "ok",
    alarms: i % 17 === 0 ? ["overtemp"] : [],
    env: { temp: 25 + (i % 20), hum: 40 + (device % 30) },
  });
}

type PayloadKind = "numeric" | "mixed";
const PAYLOADS: Record<PayloadKind, (i: number, device: number) => string> = {
  numeric: meterPayload,
  mixed: mixedPayload,
};

/**
 * Publishes `n` QoS 0 messages round-robin over `devices` topics `bench/meters/dev-<k>/telemetry`,
 * as fast as the socket takes them (waits for the write of every 500th message, so memory stays flat).
 */
export async function publishBurst(
  url: string,
  n: number,
  devices: number,
  makePayload: (i: number, device: number) => string | Buffer = meterPayload,
): Promise<{ sent: number; ms: number }> {
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-pub-${process.pid}-${Date.now()}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const topics = Array.from({ length: devices }, (_, k) => `${TOPIC_PREFIX}/dev-${k}/telemetry`);
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const d = i % devices;
      if (i % 500 === 499) await client.publishAsync(topics[d] as string, makePayload(i, d), { qos: 0 });
      else client.publish(topics[d] as string, makePayload(i, d), { qos: 0 });
    }
    await client.publishAsync(`${TOPIC_PREFIX}/done`, "1", { qos: 1 });
  } finally {
    await client.endAsync();
  }
  return { sent: n, ms: performance.now() - t0 };
}

/** Runs publishBurst in a child process so publisher and receiver do not share one event loop. */
function publishInChild(url: string, n: number, devices: number, kind: PayloadKind): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
      env: { ...process.env, EDGE_BENCH_MQTT_PUBLISH: JSON.stringify({ url, n, devices, kind }) },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
}

interface Phase {
  received: number;
  ms: number;
}

/** Waits until `count()` reaches n, or stops growing for 3 s; returns the rate window first→last message. */
async function measure(
  count: () => number,
  first: () => number,
  last: () => number,
  n: number,
  publish: () => Promise<void>,
): Promise<Phase> {
  const pub = publish();
  let prev = -1;
  let still = 0;
  const deadline = Date.now() + 60_000;
  while (count() < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (count() === prev) {
      still += 100;
      if (still >= 3000) break;
    } else still = 0;
    prev = count();
  }
  await pub;
  return { received: count(), ms: Math.max(1, last() - first()) };
}

async function bareSubscriber(url: string, n: number, devices: number, kind: PayloadKind): Promise<Phase> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    clientId: `bench-bare-${process.pid}`,
    protocolVersion: 4,
  });
  let count = 0;
  let first = 0;
  let last = 0;
  let sink = 0;
  client.on("message", (_topic, payload) => {
    const doc = JSON.parse(payload.toString("utf8")) as { voltage?: number };
    sink += doc.voltage ?? 0;
    if (count === 0) first = performance.now();
    count++;
    last = performance.now();
  });
  await client.subscribeAsync(`${TOPIC_PREFIX}/+/telemetry`, { qos: 0 });
  try {
    return await measure(
      () => count,
      () => first,
      () => last,
      n,
      () => publishInChild(url, n, devices, kind),
    );
  } finally {
    await client.endAsync();
    if (sink < 0) console.log(sink);
  }
}

async function sourceSubscriber(url: string, n: number, devices: number, kind: PayloadKind): Promise<Phase> {
  let count = 0;
  let first = 0;
  let last = 0;
  const sink: ReadingSink = {
    ingest: () => {
      if (count === 0) first = performance.now();
      count++;
      last = performance.now();
    },
    setReachable: () => {},
  };
  const metrics = testMetrics();
  const source = new MqttSource({
    config: resolveMqtt(
      {
        url,
        clientId: `bench-source-${process.pid}`,
        subscriptions: [
          {
            topic: `${TOPIC_PREFIX}/+/telemetry`,
            qos: 0,
            device: "{1}",
            product: "meter",
            timestamp: "ts",
            values: "$",
            expectedIntervalMs: 60_000,
          },
        ],
      },
      process.cwd(),
    ),
    gatewayId: "bench",
    sink,
    events: testBus(),
    clock: systemClock,
    log: silentLogger(),
    metrics,
  });
  await source.start();
  try {
    return await measure(
      () => count,
      () => first,
      () => last,
      n,
      () => publishInChild(url, n, devices, kind),
    );
  } finally {
    await source.stop();
  }
}

export default async function bench(): Promise<void> {
  const n = Number(process.env.EDGE_BENCH_MQTT_N ?? 200_000);
  const devices = Number(process.env.EDGE_BENCH_MQTT_DEVICES ?? 1000);
  const broker = await startBroker();
  try {
    console.log(`mqtt.broker: ${broker.kind}, ${n} messages from ${devices} devices, QoS 0`);
    const ratios: Partial<Record<PayloadKind, number>> = {};
    for (const kind of ["numeric", "mixed"] as const) {
      const bare = await bareSubscriber(broker.url, n, devices, kind);
      const src = await sourceSubscriber(broker.url, n, devices, kind);
      const bareRate = (bare.received / bare.ms) * 1000;
      const srcRate = (src.received / src.ms) * 1000;
      ratios[kind] = srcRate / bareRate;
      const name = kind === "numeric" ? "mqtt.messages_per_s" : "mqtt.mixed_messages_per_s";
      console.log(
        `${name}: ${Math.round(srcRate)} (baseline bare mqtt.js + JSON.parse: ${Math.round(bareRate)}, ratio ${(srcRate / bareRate).toFixed(2)})`,
      );
      console.log(
        `${kind === "numeric" ? "mqtt" : "mqtt.mixed"}.received: ${src.received}/${n} (baseline: ${bare.received}/${n})`,
      );
    }
    console.log(
      `mqtt.mixed_vs_numeric_ratio: ${((ratios.mixed ?? 0) / (ratios.numeric ?? 1)).toFixed(2)} (a third of the values strings/arrays/objects, against numeric-only messages)`,
    );
  } finally {
    await broker.stop();
  }
}

const publishJob = process.env.EDGE_BENCH_MQTT_PUBLISH;
if (publishJob !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url, n, devices, kind } = JSON.parse(publishJob) as {
    url: string;
    n: number;
    devices: number;
    kind?: PayloadKind;
  };
  await publishBurst(url, n, devices, PAYLOADS[kind ?? "numeric"]);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bench();
}
