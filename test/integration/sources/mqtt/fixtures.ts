// Shared parts of the MQTT integration tests: a recording ReadingSink, an MqttSource wired to a
// real broker, and a plain mqtt.js publisher.

import mqtt, { type MqttClient } from "mqtt";
import { resolveMqtt } from "../../../../src/config/defaults.js";
import type { MqttConfig, SubscriptionConfig } from "../../../../src/config/schema.js";
import { type Clock, systemClock } from "../../../../src/core/clock.js";
import type { EventBus } from "../../../../src/core/events.js";
import { type Logger, silentLogger } from "../../../../src/core/log.js";
import type { MetricsRegistry } from "../../../../src/core/metrics.js";
import type { ReadingSink } from "../../../../src/core/ports.js";
import type { Reading } from "../../../../src/core/types.js";
import { MqttSource } from "../../../../src/sources/mqtt/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";

export class RecordingSink implements ReadingSink {
  readonly readings: Reading[] = [];
  readonly reachability: { deviceId: string; reachable: boolean; reason?: string }[] = [];
  ingest(reading: Reading): void {
    // The source may reuse the object after return: keep a copy, as the pipeline does.
    this.readings.push({ ...reading, values: { ...reading.values } });
  }
  setReachable(deviceId: string, reachable: boolean, reason?: string): void {
    this.reachability.push(reason === undefined ? { deviceId, reachable } : { deviceId, reachable, reason });
  }
  find(pred: (r: Reading) => boolean): Reading | undefined {
    return this.readings.find(pred);
  }
}

export const METER_SUB: SubscriptionConfig = {
  topic: "meters/+/telemetry",
  qos: 1,
  device: "{1}",
  product: "meter",
  timestamp: "ts",
  values: "$",
};

let seq = 0;
/** A clientId no other test uses, so persistent sessions of parallel tests never collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
}

export function makeSource(opts: {
  url: string;
  subscriptions?: SubscriptionConfig[];
  clientId?: string;
  clock?: Clock;
  sink?: RecordingSink;
  events?: EventBus;
  metrics?: MetricsRegistry;
  config?: Partial<MqttConfig>;
  log?: Logger;
}) {
  const sink = opts.sink ?? new RecordingSink();
  const metrics = opts.metrics ?? testMetrics();
  const events = opts.events ?? testBus();
  const source = new MqttSource({
    config: resolveMqtt(
      {
        url: opts.url,
        clientId: opts.clientId ?? uniqueId("agent"),
        reconnectMinMs: 100,
        reconnectMaxMs: 2000,
        subscriptions: opts.subscriptions ?? [METER_SUB],
        ...opts.config,
      },
      process.cwd(),
    ),
    gatewayId: "gw-test",
    sink,
    events,
    clock: opts.clock ?? systemClock,
    log: opts.log ?? silentLogger(),
    metrics,
  });
  return { source, sink, metrics, events };
}

export async function publisher(url: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: uniqueId("pub"), reconnectPeriod: 200, protocolVersion: 4 });
  return c;
}

export function messages(metrics: MetricsRegistry, result: string): number {
  return metrics.counter("edge_mqtt_messages_total", "").get({ result });
}
