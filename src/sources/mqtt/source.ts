// MQTT source: one persistent-session client (stable clientId, clean=false) that maps every message
// of the configured subscriptions to a Reading for the pipeline (docs/mqtt.md).
// Invariants: bad input is counted and logged at a bounded rate, never thrown; the message handler
// is synchronous; reconnects back off from reconnectMinMs to reconnectMaxMs; when the broker lost
// our session (sessionPresent=false) the subscriptions are sent again.
// A little over 400 lines: connection lifecycle, subscription routing and bad-input accounting share
// one client's state; the pure mapping already lives in subscription.ts.

import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import type { ResolvedMqttConfig, ResolvedSubscriptionConfig } from "../../config/defaults.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { AgentError, errorMessage } from "../../core/errors.js";
import type { EventBus } from "../../core/events.js";
import type { Logger } from "../../core/log.js";
import type { MetricsRegistry } from "../../core/metrics.js";
import type { DeviceView, ReadingSink } from "../../core/ports.js";
import { MQTT_VALUES_DROPPED_HELP } from "../../pipeline/ingest.js";
import {
  compileSubscriptions,
  DROP_REASONS,
  type DropReason,
  type Drops,
  type RejectReason,
  type SubscriptionMapper,
} from "./subscription.js";

/** Behaviour constants (the settings' defaults are DEFAULTS in config/defaults.ts). */
export const MQTT_TIMING = {
  /** At most one log line per bad-input reason per this many ms. */
  logEveryMs: 10_000,
  /** start() resolves after this long even when the broker is unreachable (the client keeps retrying). */
  startWaitMs: 5000,
} as const;

type Result = "ok" | RejectReason;
const RESULTS: readonly Result[] = [
  "ok",
  "not-json",
  "too-large",
  "no-device",
  "no-metrics",
  "bad-timestamp",
  "bad-values",
  "no-match",
];

interface Route {
  mapper: SubscriptionMapper<ResolvedSubscriptionConfig>;
  /** Device id from the topic, null when it comes from the payload. */
  device: string | null;
}

interface Watch {
  lastSeen: number;
  silenceMs: number;
  intervalMs: number;
  offline: boolean;
}

interface Counter {
  inc(by?: number): void;
  get(): number;
}

/** Topic → route cache bound; a flood of distinct topics clears it instead of growing without end. */
const ROUTE_CACHE_MAX = 20_000;

export class MqttSource {
  readonly #config: ResolvedMqttConfig;
  readonly #clientId: string;
  readonly #sink: ReadingSink;
  readonly #devices: DeviceView | undefined;
  readonly #maxWatches: number;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #mappers: SubscriptionMapper<ResolvedSubscriptionConfig>[];
  readonly #maxPayload: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  readonly #results: Record<Result, Counter>;
  readonly #droppedValues: Record<DropReason, Counter>;
  readonly #reconnects: Counter;
  readonly #connectedGauge: { set(v: number): void };
  readonly #routes = new Map<string, Route | null>();
  readonly #captures: string[] = [];
  readonly #watches = new Map<string, Watch>();
  readonly #lastLog = new Map<string, { at: number; suppressed: number }>();
  #client: MqttClient | null = null;
  #checkTimer: TimerHandle | undefined;
  #subscribedOnce = false;

  constructor(opts: {
    /** The resolved section (resolveMqtt in config/defaults.ts). */
    config: ResolvedMqttConfig;
    gatewayId: string;
    sink: ReadingSink;
    /** The devices the sink kept: a silence watch is made only for a device the sink did not refuse. */
    devices?: DeviceView;
    events: EventBus;
    clock: Clock;
    log: Logger;
    metrics: MetricsRegistry;
  }) {
    this.#config = opts.config;
    this.#clientId = opts.config.clientId ?? `edge-agent-${opts.gatewayId}`;
    this.#sink = opts.sink;
    this.#devices = opts.devices;
    // The sink refuses devices past mqtt.maxDevices; the watches never outgrow that either.
    this.#maxWatches = opts.config.maxDevices;
    this.#events = opts.events;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#mappers = compileSubscriptions(opts.config.subscriptions);
    this.#maxPayload = opts.config.maxPayloadBytes;
    this.#minBackoff = opts.config.reconnectMinMs;
    this.#maxBackoff = Math.max(this.#minBackoff, opts.config.reconnectMaxMs);
    const messages = opts.metrics.counter("edge_mqtt_messages_total", "MQTT messages received, by result");
    const results: Partial<Record<Result, Counter>> = {};
    for (const r of RESULTS) results[r] = messages.bind({ result: r });
    this.#results = results as Record<Result, Counter>;
    const dropped = opts.metrics.counter("edge_mqtt_values_dropped_total", MQTT_VALUES_DROPPED_HELP);
    const droppedBy: Partial<Record<DropReason, Counter>> = {};
    for (const r of DROP_REASONS) droppedBy[r] = dropped.bind({ reason: r });
    this.#droppedValues = droppedBy as Record<DropReason, Counter>;
    this.#reconnects = opts.metrics.counter("edge_mqtt_reconnects_total", "MQTT reconnect attempts").bind();
    this.#connectedGauge = opts.metrics.gauge("edge_mqtt_connected", "1 when connected to the MQTT broker").bind();
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /**
   * Publishes on the agent's own connection (task actions). Refused while not connected rather than
   * queued: the caller reports the failure now and retries on its own terms.
   */
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1 | 2; retain: boolean }): Promise<void> {
    const client = this.#client;
    if (client === null || !client.connected) {
      return Promise.reject(new Error(`cannot publish on ${topic}: not connected to the MQTT broker`));
    }
    return new Promise<void>((resolve, reject) => {
      client.publish(topic, payload, { qos: opts.qos, retain: opts.retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Messages counted under a result ("ok", "not-json", …): for status and tests. */
  count(result: Result): number {
    return this.#results[result].get();
  }

  async start(): Promise<void> {
    if (this.#client) return;
    const options = this.#clientOptions();
    const url = this.#config.url;
    this.#subscribedOnce = false;
    const client = mqtt.connect(url, options);
    this.#client = client;

    client.on("message", this.#onMessage);
    client.on("connect", (connack: IConnackPacket) => this.#onConnect(client, connack));
    client.on("reconnect", () => {
      this.#reconnects.inc();
      // mqtt.js waits a fixed reconnectPeriod; the wait before the next attempt doubles up to the max.
      const cur = client.options.reconnectPeriod ?? this.#minBackoff;
      client.options.reconnectPeriod = Math.min(this.#maxBackoff, cur * 2);
    });
    client.on("offline", () => {
      this.#connectedGauge.set(0);
      this.#log.warn({ url: redactUrl(url) }, "MQTT broker connection lost; reconnecting");
    });
    client.on("close", () => this.#connectedGauge.set(0));
    client.on("error", (err) => this.#rateLog("error", "warn", { err: errorMessage(err) }, "MQTT client error"));

    const withInterval = this.#mappers.filter((m) => m.config.expectedIntervalMs !== undefined);
    if (withInterval.length > 0) {
      const smallest = Math.min(...withInterval.map((m) => m.config.expectedIntervalMs as number));
      this.#checkTimer = this.#clock.setInterval(() => this.checkSilence(), Math.max(100, Math.floor(smallest / 2)));
    }

    // Wait for the first subscription (so a caller may publish right after start), but never block the
    // agent on an unreachable broker: the client keeps retrying in the background.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.off("close", done);
        this.#onFirstSubscribe = null;
        resolve();
      };
      const timer = setTimeout(done, MQTT_TIMING.startWaitMs);
      client.once("close", done);
      this.#onFirstSubscribe = done;
    });
    if (!client.connected) {
      this.#log.warn({ url: redactUrl(url), clientId: this.#clientId }, "MQTT broker not reachable yet; retrying");
    }
  }

  async stop(): Promise<void> {
    this.#clock.clearInterval(this.#checkTimer);
    this.#checkTimer = undefined;
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    client.removeListener("message", this.#onMessage);
    // end(false) lets in-flight acks go out so the broker does not redeliver what we already ingested.
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.end(true, {}, () => resolve());
      }, 2000);
      client.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.#connectedGauge.set(0);
  }

  /** Marks devices offline after offlineAfter × expectedIntervalMs of silence. Driven by the clock. */
  checkSilence(): void {
    const now = this.#clock.monotonic();
    for (const [id, w] of this.#watches) {
      if (!w.offline && now - w.lastSeen >= w.silenceMs) {
        w.offline = true;
        this.#sink.setReachable(
          id,
          false,
          `no MQTT message for ${Math.round((now - w.lastSeen) / 1000)} s (expected every ${w.intervalMs} ms)`,
        );
      }
    }
  }

  #onFirstSubscribe: (() => void) | null = null;

  #clientOptions(): IClientOptions {
    const c = this.#config;
    const options: IClientOptions = {
      clientId: this.#clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: c.keepaliveS,
      reconnectPeriod: this.#minBackoff,
      connectTimeout: 10_000,
      // We resubscribe ourselves on a lost session, with our own QoS and logging.
      resubscribe: false,
    };
    if (c.username !== undefined && c.username !== "") options.username = c.username;
    if (c.password !== undefined && c.password !== "") options.password = c.password;
    const tls = c.tls;
    if (tls) {
      const read = (what: "ca" | "cert" | "key"): Buffer | undefined => {
        const file = tls[what];
        if (typeof file !== "string") return undefined;
        try {
          return readFileSync(file);
        } catch (err) {
          throw new AgentError(
            "EA_CONFIG_INVALID",
            `mqtt.tls.${what}: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
            { cause: err },
          );
        }
      };
      const ca = read("ca");
      const cert = read("cert");
      const key = read("key");
      if (ca) options.ca = ca;
      if (cert) options.cert = cert;
      if (key) options.key = key;
      options.rejectUnauthorized = tls.rejectUnauthorized ?? true;
    }
    return options;
  }

  #onConnect(client: MqttClient, connack: IConnackPacket): void {
    client.options.reconnectPeriod = this.#minBackoff;
    this.#connectedGauge.set(1);
    const present = connack.sessionPresent === true;
    this.#log.info(
      { url: redactUrl(this.#config.url), clientId: this.#clientId, sessionPresent: present },
      "connected to MQTT broker",
    );
    // First connect of this start(): always subscribe (the config may have changed since the session
    // was made). Later: only when the broker lost our session; a kept session keeps its subscriptions.
    if (this.#subscribedOnce && present) return;
    if (this.#mappers.length === 0) {
      this.#subscribedOnce = true;
      this.#onFirstSubscribe?.();
      return;
    }
    const subs: Record<string, { qos: 0 | 1 | 2 }> = {};
    for (const m of this.#mappers) {
      const prev = subs[m.filter];
      if (!prev || prev.qos < m.qos) subs[m.filter] = { qos: m.qos };
    }
    client.subscribe(subs, (err, granted) => {
      if (err) {
        this.#log.error({ err: errorMessage(err) }, "MQTT subscribe failed; retrying on next connect");
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos === 128) this.#log.error({ topic: g.topic }, "MQTT broker refused the subscription (check its ACL)");
      }
      this.#subscribedOnce = true;
      this.#log.info({ topics: Object.keys(subs), sessionPresent: present }, "MQTT subscriptions active");
      this.#onFirstSubscribe?.();
    });
  }

  readonly #onMessage = (topic: string, payload: Buffer): void => {
    if (this.#events.hasListeners("rawMessage")) this.#events.emit("rawMessage", "mqtt", topic, payload);
    if (payload.length > this.#maxPayload) {
      this.#reject(
        "too-large",
        topic,
        `payload of ${payload.length} bytes exceeds maxPayloadBytes ${this.#maxPayload}`,
      );
      return;
    }
    let route = this.#routes.get(topic);
    if (route === undefined) {
      route = this.#route(topic);
      if (this.#routes.size >= ROUTE_CACHE_MAX) this.#routes.clear();
      this.#routes.set(topic, route);
    }
    if (route === null) {
      this.#reject("no-match", topic, "topic matches no subscription");
      return;
    }
    const res = route.mapper.map(topic, payload, route.device, this.#clock.now());
    if (!res.ok) {
      if (res.dropped !== undefined) this.#countDrops(res.dropped);
      this.#reject(res.reason, topic, res.detail);
      return;
    }
    if (res.dropped !== null) {
      const keys = this.#countDrops(res.dropped);
      this.#rateLog(
        "values-cut",
        "warn",
        { topic, reasons: keys },
        "MQTT values cut from the reading: a string over 4 KiB, or an array/object over 16 levels or 64 KiB of JSON",
      );
    }
    this.#results.ok.inc();
    const reading = res.reading;
    const interval = route.mapper.config.expectedIntervalMs;
    const deviceId = reading.deviceId;
    this.#sink.ingest(reading);
    if (interval !== undefined) this.#seen(deviceId, interval, route.mapper.config.offlineAfter);
  };

  #countDrops(d: Drops): DropReason[] {
    const keys: DropReason[] = [];
    for (const r of DROP_REASONS) {
      const n = d[r];
      if (n === undefined) continue;
      this.#droppedValues[r].inc(n);
      keys.push(r);
    }
    return keys;
  }

  #route(topic: string): Route | null {
    for (const m of this.#mappers) {
      if (m.match(topic, this.#captures)) return { mapper: m, device: m.deviceFromTopic(this.#captures) };
    }
    return null;
  }

  #seen(deviceId: string, intervalMs: number, offlineAfter: number): void {
    const now = this.#clock.monotonic();
    let w = this.#watches.get(deviceId);
    if (w === undefined) {
      // A device the sink refused (mqtt.maxDevices) gets no watch: it has no status to keep. Without
      // a device view, the watches at least never outgrow the same bound.
      const refused =
        this.#devices !== undefined
          ? this.#devices.get(deviceId) === undefined
          : this.#watches.size >= this.#maxWatches;
      if (refused) return;
      w = {
        lastSeen: now,
        intervalMs,
        silenceMs: intervalMs * offlineAfter,
        offline: false,
      };
      this.#watches.set(deviceId, w);
      return;
    }
    w.lastSeen = now;
    if (w.offline) {
      w.offline = false;
      this.#sink.setReachable(deviceId, true);
    }
  }

  #reject(reason: RejectReason, topic: string, detail: string): void {
    this.#results[reason].inc();
    this.#rateLog(reason, "warn", { topic, reason }, `MQTT message dropped: ${detail}`);
  }

  /** One line per key per logEveryMs; the next line says how many were suppressed in between. */
  #rateLog(key: string, level: "warn" | "error", fields: Record<string, unknown>, msg: string): void {
    const now = this.#clock.monotonic();
    const entry = this.#lastLog.get(key);
    if (entry !== undefined && now - entry.at < MQTT_TIMING.logEveryMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#lastLog.set(key, { at: now, suppressed: 0 });
    this.#log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}
