// The hot path: reading → device state → rules → alarm tracker. Synchronous from the source's
// call to the last rule result: no awaits, no disk I/O, no per-rule allocation. Persistence and
// hooks happen later, off this path (the alarm service batches commits; hooks have queues).
// Readings from MQTT are bounded here, where device state is written: at most `maxDevices`
// devices discovered from MQTT and `maxValuesPerDevice` facts per device. What a bound refuses is
// counted and logged at a bounded rate; existing devices and existing facts keep updating.

import type { ResolvedMqttConfig } from "../config/defaults.js";
import { type Clock, systemClock } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import { setOwn } from "../core/json-value.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { AlarmTracker, CompiledRule, ConditionLevel, ReadingSink, RuleEngine } from "../core/ports.js";
import type { DeviceState, FactValue, Reading } from "../core/types.js";
import { markStrictFacts, uncoercible } from "../rules/compile.js";
import { type DeviceRegistry, type DeviceSlot, snapshot } from "./device-registry.js";

export interface ReadingObserver {
  observe(reading: Reading): void;
}

type Handle = { inc(by?: number): void };

/** Bounds on what MQTT readings may create: the resolved mqtt section's maxDevices and maxValuesPerDevice. */
export type MqttBounds = Pick<ResolvedMqttConfig, "maxDevices" | "maxValuesPerDevice">;

/** At most one log line per refusal kind per this many ms (the next one says how many were not logged). */
const REFUSAL_LOG_MS = 10_000;

interface RefusalLog {
  at: number;
  suppressed: number;
}

export class Pipeline implements ReadingSink {
  readonly #devices: DeviceRegistry;
  readonly #rules: RuleEngine;
  readonly #events: EventBus;
  readonly #log: Logger;
  readonly #alarms: AlarmTracker | null;
  readonly #observers: readonly ReadingObserver[];
  readonly #readings: Record<string, Handle>;
  readonly #ruleResults: Handle;
  readonly #failures: Handle;
  readonly #clock: Clock;
  readonly #maxDevices: number;
  readonly #maxValues: number;
  readonly #devicesRefused: Handle;
  readonly #keysRefused: Handle;
  readonly #refusalLog = new Map<"device" | "keys", RefusalLog>();
  /** Why the status change being made happened (set around a source's setReachable call). */
  #reason: string | undefined;
  // The reading and device being evaluated: the rule callback reads them instead of capturing a closure per reading.
  #curReading: Reading | null = null;
  #curDevice: DeviceState | null = null;
  readonly #onResult = (rule: CompiledRule, level: ConditionLevel): void => {
    this.#ruleResults.inc();
    this.#alarms?.observe(rule, this.#curDevice as DeviceState, level, this.#curReading as Reading);
  };

  constructor(opts: {
    devices: DeviceRegistry;
    rules: RuleEngine;
    events: EventBus;
    log: Logger;
    metrics: MetricsRegistry;
    /** The resolved mqtt section. Absent when there is no MQTT source: only it makes MQTT readings,
     *  so nothing is bounded then. */
    bounds?: MqttBounds | undefined;
    /** For the rate of refusal log lines. */
    clock?: Clock;
    /** Where rule results go (none: readings only update device state). */
    alarms?: AlarmTracker | undefined;
    /** Called with every reading after the rules (quota counters). */
    observers?: readonly ReadingObserver[] | undefined;
  }) {
    this.#devices = opts.devices;
    this.#alarms = opts.alarms ?? null;
    this.#observers = opts.observers ?? [];
    this.#rules = opts.rules;
    this.#events = opts.events;
    this.#log = opts.log;
    this.#clock = opts.clock ?? systemClock;
    this.#maxDevices = opts.bounds ? opts.bounds.maxDevices : Number.POSITIVE_INFINITY;
    this.#maxValues = opts.bounds ? opts.bounds.maxValuesPerDevice : Number.POSITIVE_INFINITY;
    this.#devicesRefused = opts.metrics
      .counter(
        "edge_mqtt_devices_refused_total",
        "MQTT readings refused because their device is new and mqtt.maxDevices devices already exist",
      )
      .bind();
    // Same family as the MQTT source's size bounds (one help text, registered by whoever comes first).
    this.#keysRefused = opts.metrics
      .counter("edge_mqtt_values_dropped_total", MQTT_VALUES_DROPPED_HELP)
      .bind({ reason: "too-many-keys" });
    // Every status change is logged once, whatever caused it (a source, a reading, an alarm, maintenance).
    opts.events.on("deviceStatusChanged", (d, from, to) => {
      const why = this.#devices.changeReason ?? this.#reason ?? defaultReason(from, to);
      const fields = { deviceId: d.id, from, status: to, reason: why };
      if (to === "offline") this.#log.warn(fields, `device ${d.id} is offline (was ${from})`);
      else this.#log.info(fields, `device ${d.id} is ${to} (was ${from})`);
    });
    const readings = opts.metrics.counter("edge_readings_total", "Readings ingested, by source");
    this.#readings = {
      mqtt: readings.bind({ source: "mqtt" }),
      modbus: readings.bind({ source: "modbus" }),
      quota: readings.bind({ source: "quota" }),
      internal: readings.bind({ source: "internal" }),
    };
    this.#ruleResults = opts.metrics
      .counter("edge_rule_results_total", "Rule results handed to the alarm tracker (non-zero or changed levels)")
      .bind();
    this.#failures = opts.metrics.counter("edge_pipeline_errors_total", "Readings whose processing failed").bind();
  }

  ingest(reading: Reading): void {
    try {
      const mqtt = reading.source === "mqtt";
      const slot = this.#devices.slotFor(reading.deviceId, reading.product, reading.source, this.#maxDevices);
      if (slot === null) {
        this.#refuseDevice(reading.deviceId);
        return;
      }
      const dev = slot.state;
      const values = reading.values;
      const target = dev.values;
      let refused = 0;
      for (const k in values) {
        if (mqtt && !Object.hasOwn(target, k)) {
          if (slot.mqttValues >= this.#maxValues) {
            refused++;
            continue;
          }
          slot.mqttValues++;
        }
        const v = values[k] as FactValue;
        // `__proto__` is an ordinary fact: plain assignment would set the object's prototype.
        if (k === "__proto__") setOwn(target, k, v);
        else target[k] = v;
        // An object the engine cannot coerce ({"toString": 1}): this device's rules run in strict mode.
        if (typeof v === "object" && v !== null && uncoercible(v)) markStrictFacts(target);
      }
      if (refused > 0) this.#refuseKeys(slot, reading, refused);
      this.#devices.markSeen(dev, reading.ts);
      this.#readings[reading.source]?.inc();
      this.#curReading = reading;
      this.#curDevice = dev;
      this.#rules.evaluate(reading, target, this.#onResult);
      for (let i = 0; i < this.#observers.length; i++) (this.#observers[i] as ReadingObserver).observe(reading);
      if (this.#events.hasListeners("reading")) {
        // Listeners keep what they get past this call (hook queues). The reading is handed over by
        // its source (ReadingSink contract); the device state lives on, so listeners get a copy.
        this.#events.emit("reading", reading, snapshot(dev));
      }
    } catch (err) {
      this.#failures.inc();
      this.#log.error({ err, deviceId: reading.deviceId }, "reading processing failed");
    } finally {
      this.#curReading = null;
      this.#curDevice = null;
    }
  }

  setReachable(deviceId: string, reachable: boolean, reason?: string): void {
    this.#reason = reason;
    try {
      this.#devices.setReachable(deviceId, reachable, reason);
    } finally {
      this.#reason = undefined;
    }
  }

  /** A reading of a new MQTT device past mqtt.maxDevices: nothing of it is kept. */
  #refuseDevice(deviceId: string): void {
    this.#devicesRefused.inc();
    const n = this.#suppressed("device");
    if (n < 0) return;
    this.#log.warn(
      { deviceId, maxDevices: this.#maxDevices, ...(n > 0 ? { suppressed: n } : {}) },
      `MQTT device ${deviceId} refused: mqtt.maxDevices (${this.#maxDevices}) devices already known. ` +
        "Its readings are dropped; devices already known keep working. Raise mqtt.maxDevices if the site has more devices, " +
        "or check the subscription's device template if ids are not meant to vary this much.",
    );
  }

  /** New facts past mqtt.maxValuesPerDevice: taken out of the reading so rules and hooks never see them. */
  #refuseKeys(slot: DeviceSlot, reading: Reading, refused: number): void {
    const target = slot.state.values;
    const values = reading.values;
    for (const k in values) if (!Object.hasOwn(target, k)) delete values[k];
    this.#keysRefused.inc(refused);
    const n = this.#suppressed("keys");
    if (n < 0) return;
    this.#log.warn(
      { deviceId: reading.deviceId, refused, maxValuesPerDevice: this.#maxValues, ...(n > 0 ? { suppressed: n } : {}) },
      `MQTT device ${reading.deviceId} already has mqtt.maxValuesPerDevice (${this.#maxValues}) values: ` +
        `${refused} new key(s) refused, its known keys still update. Raise mqtt.maxValuesPerDevice if the device really has that many values.`,
    );
  }

  /** -1 when this kind was logged less than REFUSAL_LOG_MS ago, else how many lines were held back since. */
  #suppressed(kind: "device" | "keys"): number {
    const now = this.#clock.monotonic();
    const e = this.#refusalLog.get(kind);
    if (e !== undefined && now - e.at < REFUSAL_LOG_MS) {
      e.suppressed++;
      return -1;
    }
    const n = e?.suppressed ?? 0;
    this.#refusalLog.set(kind, { at: now, suppressed: 0 });
    return n;
  }
}

/** Help of edge_mqtt_values_dropped_total (shared with the MQTT source, which counts the size bounds). */
export const MQTT_VALUES_DROPPED_HELP =
  "MQTT payload values not kept, by reason (size bounds of one value; too-many-keys: mqtt.maxValuesPerDevice)";

function defaultReason(from: string, to: string): string {
  if (to === "alarm") return "an alarm is active";
  if (from === "alarm" && to === "online") return "no active alarm left";
  if (to === "maintenance") return "maintenance on";
  if (from === "maintenance") return "maintenance off";
  if (to === "online") return "reading received";
  return "source report";
}
