// MQTT as one part of the agent: the embedded broker when `"url": "embedded"`, then the agent's own
// client. The client is built when the part starts because it connects to the address the broker
// really bound (port 0 picks one), and it logs in to its own broker like any device (a generated
// login when only device users are configured).

import type { ResolvedMqttConfig } from "../config/defaults.js";
import { embeddedBrokerAddress } from "../config/defaults.js";
import type { Clock } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import type { Part } from "../core/lifecycle.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { DeviceView, MqttPublisher, ReadingSink } from "../core/ports.js";
import { type BrokerLogin, EmbeddedBroker, embeddedBrokerLogins } from "../sources/mqtt/embedded-broker.js";
import { MqttSource } from "../sources/mqtt/source.js";

export interface MqttParts {
  /** The embedded broker (when configured), then the client. */
  parts: Part[];
  /** Whether the client is connected now (false before it started). */
  readonly client: { readonly connected: boolean };
  /** Publishes on the agent's client (rejects while it is not connected). */
  readonly publisher: MqttPublisher;
}

export function mqttParts(o: {
  mqtt: ResolvedMqttConfig;
  gatewayId: string;
  sink: ReadingSink;
  devices: DeviceView;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}): MqttParts {
  const parts: Part[] = [];
  let broker: EmbeddedBroker | null = null;
  let agentLogin: BrokerLogin | null = null;
  const address = embeddedBrokerAddress(o.mqtt);
  if (address) {
    const { logins, agent } = embeddedBrokerLogins(o.mqtt);
    agentLogin = agent;
    broker = new EmbeddedBroker({ ...address, log: o.log.child({ module: "broker" }), logins, clock: o.clock });
    parts.push({ name: "MQTT broker", part: broker });
  }
  let source: MqttSource | null = null;
  parts.push({
    name: "MQTT client",
    part: {
      start: async () => {
        const config = broker ? { ...o.mqtt, url: broker.url, ...(agentLogin ?? {}) } : o.mqtt;
        source = new MqttSource({
          config,
          gatewayId: o.gatewayId,
          sink: o.sink,
          devices: o.devices,
          events: o.events,
          clock: o.clock,
          log: o.log.child({ module: "mqtt" }),
          metrics: o.metrics,
        });
        await source.start();
      },
      stop: async () => {
        await source?.stop();
      },
    },
  });
  return {
    parts,
    client: {
      get connected() {
        return source?.connected === true;
      },
    },
    publisher: {
      publish: (topic, payload, opts) =>
        source === null
          ? Promise.reject(new Error(`cannot publish on ${topic}: the MQTT client is not running`))
          : source.publish(topic, payload, opts),
    },
  };
}
