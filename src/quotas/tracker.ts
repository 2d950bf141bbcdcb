// Energy quotas (docs/quotas.md): usage of a cumulative counter per local day or month, summed
// from counter increases. A counter that goes backwards is a reset/rollover (rebased, never negative);
// an increase across a gap is spread over the periods the gap covers in proportion to time.
// observe() is on the hot path: one Map lookup for devices without quotas, no awaits, no disk I/O;
// usage is persisted together with its counter baseline by a periodic flush, crossings promptly.

import type { QuotaConfig } from "../config/schema.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { AlarmTracker, CompiledRule, ConditionLevel, DeviceView } from "../core/ports.js";
import type { DeviceState, QuotaDefinition, QuotaUsage, Reading, RuleDefinition } from "../core/types.js";
import type { Db } from "../store/db.js";
import { QuotasRepo } from "../store/quotas-repo.js";
import { periodStart, splitByPeriod } from "./period.js";

/** A decimal number written as a string (how Modbus carries integers beyond 2^53). */
const DECIMAL = /^-?\d+(\.\d+)?$/;

export interface QuotaTrackerOptions {
  quotas: readonly QuotaConfig[];
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventBus;
  alarms: AlarmTracker;
  devices: DeviceView;
  /** How often accumulated usage is written (default 5000 ms). */
  flushMs?: number;
  /** How often period boundaries are checked when no reading arrives (default 30000 ms). */
  tickMs?: number;
}

interface State {
  q: QuotaConfig;
  def: QuotaDefinition;
  periodStart: number;
  usage: number;
  lastValue: number | null;
  lastTs: number | null;
  crossed: ConditionLevel;
  rule: CompiledRule | null;
  /** Closed periods whose final usage is still to be written (absolute). */
  closed: Map<number, { usage: number; crossed: number }>;
  /** Usage attributed to earlier periods by a gap split (added to their rows). */
  added: Map<number, number>;
  /** Usage counted since the tracker started, whatever period it went to (daily statistics). */
  counted: number;
}

export class QuotaTracker {
  readonly #o: QuotaTrackerOptions;
  readonly #repo: QuotasRepo;
  readonly #byDevice = new Map<string, State[]>();
  readonly #states: State[] = [];
  #dirty = false;
  #urgent = false;
  #flushTimer: TimerHandle | undefined;
  #tickTimer: TimerHandle | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #stopped = false;
  /** Readings before start() (state not yet restored from the database) are not counted. */
  #started = false;

  constructor(opts: QuotaTrackerOptions) {
    this.#o = opts;
    this.#repo = new QuotasRepo(opts.db);
    for (const q of opts.quotas) {
      const def: QuotaDefinition = {
        id: q.id,
        device: q.device,
        metric: q.metric,
        period: q.period,
        limit: q.limit,
        ...(q.warnAt !== undefined ? { warnAt: q.warnAt } : {}),
      };
      const s: State = {
        q,
        def,
        periodStart: 0,
        usage: 0,
        lastValue: null,
        lastTs: null,
        crossed: 0,
        rule: null,
        closed: new Map(),
        added: new Map(),
        counted: 0,
      };
      this.#states.push(s);
      const list = this.#byDevice.get(q.device);
      if (list) list.push(s);
      else this.#byDevice.set(q.device, [s]);
    }
  }

  async start(): Promise<void> {
    const now = this.#o.clock.now();
    for (const s of this.#states) {
      const row = this.#repo.latest(s.q.id);
      const current = periodStart(now, s.q.period);
      if (row !== undefined) {
        s.lastValue = row.lastValue;
        s.lastTs = row.lastTs;
        s.periodStart = row.periodStart;
        s.usage = row.usage;
        s.crossed = Math.min(2, Math.max(0, row.crossed)) as ConditionLevel;
      } else s.periodStart = current;
    }
    this.#started = true;
    this.#tick();
    this.#flushTimer = this.#o.clock.setInterval(() => this.flush(), this.#o.flushMs ?? 5000);
    this.#tickTimer = this.#o.clock.setInterval(() => this.#tick(), this.#o.tickMs ?? 30_000);
  }

  async stop(): Promise<void> {
    this.#o.clock.clearInterval(this.#flushTimer);
    this.#o.clock.clearInterval(this.#tickTimer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.flush();
    this.#stopped = true;
    this.#started = false;
  }

  /** Current usage of every quota (status page, tests). */
  snapshot(): QuotaUsage[] {
    return this.#states.map((s) => this.#usage(s, s.crossed === 2 ? "limit" : "warn"));
  }

  /** Usage counted per quota id since start, in whatever period (daily statistics take differences). */
  countedUsage(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.#states) out[s.q.id] = s.counted;
    return out;
  }

  /** Hot path: called by the pipeline for every reading. */
  observe(reading: Reading): void {
    const list = this.#byDevice.get(reading.deviceId);
    if (list === undefined || !this.#started) return;
    for (let i = 0; i < list.length; i++) {
      const s = list[i] as State;
      const raw = reading.values[s.q.metric];
      if (raw === undefined) continue;
      // A metric is a number; a decimal string is a Modbus 64-bit counter beyond 2^53. Any other
      // string, an array or an object (facts of every type reach readings) is not a meter value.
      const v = typeof raw === "number" ? raw : typeof raw === "string" && DECIMAL.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(v)) continue;
      this.#apply(s, v, reading);
    }
  }

  #apply(s: State, v: number, reading: Reading): void {
    const ts = reading.ts;
    const ps = periodStart(ts, s.q.period);
    if (s.lastValue === null || s.lastTs === null) {
      // First reading ever: the baseline. Usage before it is unknown, not zero-then-spike.
      s.lastValue = v;
      s.lastTs = ts;
      if (ps > s.periodStart) this.#roll(s, ps, reading);
      this.#dirty = true;
      this.#assert(s, reading);
      return;
    }
    if (ts < s.lastTs) return; // older than the baseline (late or replayed): already accounted
    let delta = v - s.lastValue;
    if (delta < 0) {
      this.#o.log.info(
        { quota: s.q.id, device: s.q.device, metric: s.q.metric, from: s.lastValue, to: v },
        "counter went backwards: treated as a meter reset or rollover (new baseline, no negative usage)",
      );
      delta = 0;
    }
    s.counted += delta;
    const parts = delta > 0 ? splitByPeriod(s.lastTs, ts, delta, s.q.period) : [];
    s.lastValue = v;
    s.lastTs = ts;
    const oldStart = s.periodStart;
    for (const p of parts) if (p.start === oldStart) s.usage += p.amount;
    if (ps > oldStart) {
      // The old period's share may still cross its thresholds: report that before it closes.
      this.#assert(s, reading);
      this.#roll(s, ps, reading);
    }
    for (const p of parts) {
      if (p.start === oldStart) continue;
      if (p.start === s.periodStart) s.usage += p.amount;
      else s.added.set(p.start, (s.added.get(p.start) ?? 0) + p.amount);
    }
    this.#dirty = true;
    this.#assert(s, reading);
  }

  /** A new period started: close the old one and resolve its alarm. */
  #roll(s: State, newStart: number, reading: Reading | null): void {
    s.closed.set(s.periodStart, { usage: s.usage, crossed: s.crossed });
    const was = s.crossed;
    s.periodStart = newStart;
    s.usage = 0;
    s.crossed = 0;
    this.#dirty = true;
    this.#urgent = true;
    if (was > 0) {
      this.#o.log.info({ quota: s.q.id }, "new quota period: quota alarm resolved");
      if (reading === null) this.#assert(s, null);
    }
  }

  /** Raises/escalates on crossings (once per threshold per period) and reports the level to the alarm tracker. */
  #assert(s: State, reading: Reading | null): void {
    const limit = s.q.limit;
    const level: ConditionLevel =
      s.usage >= limit ? 2 : s.q.warnAt !== undefined && s.usage >= s.q.warnAt * limit ? 1 : 0;
    if (level > s.crossed) {
      const from = s.crossed;
      s.crossed = level;
      this.#urgent = true;
      this.#dirty = true;
      this.#o.log.warn(
        { quota: s.q.id, usage: s.usage, limit, level },
        level === 2 ? "quota limit exceeded" : "quota pre-warning threshold passed",
      );
      if (from < 1 && level >= 1 && s.q.warnAt !== undefined)
        this.#o.events.emit("quotaExceeded", s.def, this.#usage(s, "warn"));
      if (level === 2) this.#o.events.emit("quotaExceeded", s.def, this.#usage(s, "limit"));
      this.#scheduleUrgentFlush();
    }
    const device = this.#o.devices.get(s.q.device);
    if (device === undefined) return;
    const rule = this.#ruleFor(s, device);
    const r: Reading = {
      deviceId: s.q.device,
      product: device.product,
      ts: reading?.ts ?? this.#o.clock.now(),
      values: {
        [s.q.metric]: s.lastValue ?? 0,
        [`${s.q.metric}_usage`]: round(s.usage),
        quota_limit: limit,
        quota_period_start: s.periodStart,
      },
      source: "quota",
    };
    this.#o.alarms.observe(rule, device, s.crossed, r);
  }

  #usage(s: State, crossed: "warn" | "limit"): QuotaUsage {
    return {
      quotaId: s.q.id,
      periodStart: s.periodStart,
      usage: round(s.usage),
      limit: s.q.limit,
      ratio: round(s.usage / s.q.limit),
      crossed,
    };
  }

  #ruleFor(s: State, device: DeviceState): CompiledRule {
    if (s.rule !== null && s.rule.def.key === device.product) return s.rule;
    const q = s.q;
    const usageFact = `${q.metric}_usage`;
    const def: RuleDefinition = {
      id: `quota:${q.id}`,
      name: `quota-${q.id}`,
      title: `Energy quota ${q.id}`,
      message: `${q.metric} of ${q.device} over its ${q.period === "day" ? "daily" : "monthly"} quota of ${q.limit}`,
      key: device.product,
      did: q.device,
      type: "rule",
      fact: usageFact,
      isEnable: true,
      level: q.level ?? 3,
      period: 0,
      for: 0,
      conditions: { all: [{ fact: usageFact, operator: "greaterThanInclusive", value: q.limit }] },
      ...(q.warnAt !== undefined
        ? {
            warnConditions: {
              all: [{ fact: usageFact, operator: "greaterThanInclusive" as const, value: q.warnAt * q.limit }],
            },
          }
        : {}),
      actions: { alarm: true },
    };
    // The level is the quota's state, not a re-evaluation of facts: usage lives here, not in the device values.
    s.rule = { def, file: `quota:${q.id}`, level: () => s.crossed };
    return s.rule;
  }

  /** Period boundaries pass even when the meter is silent: a new day/month resolves the alarm. */
  #tick(): void {
    const now = this.#o.clock.now();
    for (const s of this.#states) {
      const ps = periodStart(now, s.q.period);
      if (ps > s.periodStart) this.#roll(s, ps, null);
    }
    if (this.#urgent) this.flush();
  }

  #scheduleUrgentFlush(): void {
    // Crossings are persisted at once, but after the reading's call returns (no disk I/O on the hot path).
    if (this.#immediate !== undefined || this.#stopped) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      if (this.#urgent) this.flush();
    });
  }

  /** Writes usage, baselines and crossings in one transaction. */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#urgent = false;
    const repo = this.#repo;
    try {
      repo.transaction(() => {
        for (const s of this.#states) {
          const id = s.q.id;
          for (const [start, c] of s.closed)
            repo.put(id, { periodStart: start, usage: c.usage, lastValue: null, lastTs: null, crossed: c.crossed });
          for (const [start, amount] of s.added) repo.add(id, start, amount);
          repo.put(id, {
            periodStart: s.periodStart,
            usage: s.usage,
            lastValue: s.lastValue,
            lastTs: s.lastTs,
            crossed: s.crossed,
          });
          s.closed.clear();
          s.added.clear();
        }
      });
    } catch (err) {
      this.#dirty = true;
      this.#o.log.error({ err }, "cannot persist quota usage; will retry");
    }
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
