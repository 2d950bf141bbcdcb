// The hot path: reading → device state → rules → alarm tracker. Synchronous from the source's
// call to the last rule result: no awaits, no disk I/O, no per-rule allocation. Persistence and
// hooks happen later, off this path (the alarm service batches commits; hooks have queues).

import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { AlarmTracker, CompiledRule, ConditionLevel, ReadingSink, RuleEngine } from "../core/ports.js";
import type { DeviceState, Reading } from "../core/types.js";
import { type DeviceRegistry, snapshot } from "./device-registry.js";

export interface ReadingObserver {
  observe(reading: Reading): void;
}

type Handle = { inc(by?: number): void };

export class Pipeline implements ReadingSink {
  readonly #devices: DeviceRegistry;
  readonly #rules: RuleEngine;
  readonly #events: EventBus;
  readonly #log: Logger;
  #alarms: AlarmTracker | null = null;
  #observers: ReadingObserver[] = [];
  readonly #readings: Record<string, Handle>;
  readonly #ruleResults: Handle;
  readonly #failures: Handle;
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
  }) {
    this.#devices = opts.devices;
    this.#rules = opts.rules;
    this.#events = opts.events;
    this.#log = opts.log;
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

  /** Wires the downstream parts (they need the device view, so they are built after the pipeline). */
  connect(parts: { alarms: AlarmTracker; observers?: ReadingObserver[] }): void {
    this.#alarms = parts.alarms;
    this.#observers = parts.observers ?? [];
  }

  ingest(reading: Reading): void {
    try {
      const dev = this.#devices.entryFor(reading.deviceId, reading.product, reading.source);
      const values = reading.values;
      const target = dev.values;
      for (const k in values) target[k] = values[k] as Reading["values"][string];
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
    const before = this.#devices.get(deviceId)?.status;
    this.#devices.setReachable(deviceId, reachable);
    const after = this.#devices.get(deviceId)?.status;
    if (before !== after) this.#log.info({ deviceId, status: after, reason }, "device status changed");
  }
}
