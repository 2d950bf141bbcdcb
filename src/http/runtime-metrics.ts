// Gauges computed when /metrics is scraped: event-loop lag, memory, readings per second per
// source, alarms by status, outbox depth, age and dead letters, hook state. Sources of truth stay in their
// subsystems; this module only reads them, so a scrape never touches the hot path.

import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { AlarmQueries, HookAdmin, OutboxStats } from "../core/ports.js";

export interface RuntimeMetricsOptions {
  metrics: MetricsRegistry;
  clock: Clock;
  alarms: AlarmQueries;
  outbox?: OutboxStats | undefined;
  hooks?: HookAdmin | undefined;
}

const RATE_WINDOW_MS = 5000;

export class RuntimeMetrics {
  readonly #o: RuntimeMetricsOptions;
  #histogram: IntervalHistogram | null = null;
  #timer: TimerHandle | undefined;
  #registered = false;
  #running = false;
  #lastSample = new Map<string, number>();
  #lastSampleAt = 0;
  #sampled = false;

  constructor(opts: RuntimeMetricsOptions) {
    this.#o = opts;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#histogram = monitorEventLoopDelay({ resolution: 20 });
    this.#histogram.enable();
    this.#sampleRates();
    this.#timer = this.#o.clock.setInterval(() => this.#sampleRates(), RATE_WINDOW_MS);
    if (!this.#registered) {
      // The registry has no way to remove a collector: register once, and skip while stopped.
      this.#registered = true;
      this.#o.metrics.onCollect(() => {
        if (this.#running) this.#collect();
      });
    }
  }

  stop(): void {
    this.#running = false;
    this.#o.clock.clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
    this.#histogram = null;
  }

  #readingsCounter() {
    return this.#o.metrics.counter("edge_readings_total", "Readings ingested, by source");
  }

  #sampleRates(): void {
    const now = this.#o.clock.monotonic();
    const rate = this.#o.metrics.gauge("edge_readings_per_second", "Readings per second by source, over the last 5 s");
    const dt = (now - this.#lastSampleAt) / 1000;
    for (const s of this.#readingsCounter().all()) {
      const source = s.labels.source ?? "all";
      // A source that appeared since the last sample started from zero.
      const prev = this.#lastSample.get(source) ?? (this.#sampled ? 0 : undefined);
      if (prev !== undefined && dt > 0) rate.set(Math.max(0, (s.value - prev) / dt), { source });
      this.#lastSample.set(source, s.value);
    }
    this.#lastSampleAt = now;
    this.#sampled = true;
  }

  #collect(): void {
    const m = this.#o.metrics;
    const h = this.#histogram;
    if (h) {
      const lag = m.gauge("edge_event_loop_lag_seconds", "Event-loop delay since the previous scrape");
      lag.set(h.percentile(50) / 1e9, { quantile: "0.5" });
      lag.set(h.percentile(99) / 1e9, { quantile: "0.99" });
      lag.set(h.max / 1e9, { quantile: "1" });
      h.reset();
    }
    const mem = process.memoryUsage();
    m.gauge("edge_process_resident_memory_bytes", "Resident set size").set(mem.rss);
    m.gauge("edge_process_heap_used_bytes", "V8 heap in use").set(mem.heapUsed);
    m.gauge("edge_process_heap_total_bytes", "V8 heap reserved").set(mem.heapTotal);
    m.gauge("edge_process_external_memory_bytes", "Memory of C++ objects bound to JS (buffers, SQLite)").set(
      mem.external,
    );

    const byStatus = { "1": 0, "2": 0 };
    for (const a of this.#o.alarms.active()) if (a.status === 1 || a.status === 2) byStatus[a.status]++;
    // edge_alarms_active (the alarm service's) is the total; this splits it by status.
    const alarms = m.gauge("edge_alarms_by_status", "Open alarms by status (1 pre-warning, 2 alarm)");
    alarms.set(byStatus["1"], { status: "1" });
    alarms.set(byStatus["2"], { status: "2" });

    if (this.#o.outbox) {
      const s = this.#o.outbox.summary(this.#o.clock.now());
      // Same gauge and meaning as the dispatcher's; set here too so the API works without it.
      m.gauge("edge_outbox_pending", "Outbox items waiting for delivery").set(s.pending);
      m.gauge("edge_outbox_oldest_pending_age_seconds", "Age of the oldest undelivered outbox item").set(
        s.oldestPendingAgeS,
      );
      m.gauge("edge_outbox_dead_letters", "Outbox items refused by upstream (kept, not retried)").set(s.deadLetters);
    }
    if (this.#o.hooks) {
      const state = m.gauge("edge_hook_up", "1 when the hook is running");
      for (const hk of this.#o.hooks.list()) state.set(hk.state === "running" ? 1 : 0, { hook: hk.name });
    }
  }
}
