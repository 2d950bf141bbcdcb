// Daily statistics (docs/http-api.md, GET /stats/day; docs/hooks.md, onDayClosed): per device and
// numeric metric the min, max, sum and count of the current local day (config.timezone), and each
// quota's usage that day. observe() is on the hot path: one slot per metric allocated the first time
// the metric is seen and reused every day after, no disk I/O, no await. A reading counts in the
// local day during which the agent received it (device clocks may be wrong). The accumulators are
// written every flushMs and at stop, so a restart keeps the day; at local midnight (a timer to the
// next local midnight, so DST days of 23 or 25 hours close at the right instant) the day's summary
// is stored, old days beyond retention deleted, and "dayClosed" emitted. A day left open while the
// agent was down is closed at start with what was kept.

import type { Clock, TimerHandle } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import { localDate, nextLocalMidnight } from "../core/local-time.js";
import type { Logger } from "../core/log.js";
import type { DayStats, DayStatsQueries } from "../core/ports.js";
import type { Reading } from "../core/types.js";
import type { ReadingObserver } from "../pipeline/ingest.js";
import { DayStatsRepo } from "../store/day-stats-repo.js";
import type { Db } from "../store/db.js";
import {
  type Acc,
  COUNT,
  daysBefore,
  deepFreeze,
  MAX,
  MIN,
  type OpenDoc,
  packDevice,
  parseOpenDoc,
  round6,
  SUM,
  summarize,
} from "./summary.js";

/** What the statistics read of the quotas: usage counted per quota since the tracker started. */
export interface QuotaUsageSource {
  countedUsage(): Record<string, number>;
}

export interface DayStatisticsOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventBus;
  /** IANA zone of the site's local day. */
  timezone: string;
  /** Closed days kept. */
  retentionDays: number;
  quotas?: QuotaUsageSource | null;
  /** How often the running day is written (default 5 min). */
  flushMs?: number;
}

const FLUSH_MS = 300_000;

export class DayStatistics implements ReadingObserver, DayStatsQueries {
  readonly #o: DayStatisticsOptions;
  readonly #repo: DayStatsRepo;
  /** Per device, per metric: [min, max, sum, count]; kept across days (reset in place). */
  readonly #acc = new Map<string, Map<string, Acc>>();
  #date = "";
  /** Quota usage carried from before a restart this day, and the counters at the day's (or run's) start. */
  #quotaCarry: Record<string, number> = {};
  #quotaBase: Record<string, number> = {};
  #started = false;
  #dirty = false;
  #midnight: TimerHandle | undefined;
  #flushTimer: TimerHandle | undefined;

  constructor(o: DayStatisticsOptions) {
    this.#o = o;
    this.#repo = new DayStatsRepo(o.db);
  }

  async start(): Promise<void> {
    const now = this.#o.clock.now();
    const today = localDate(now, this.#o.timezone);
    const text = this.#repo.loadOpen();
    const open = text === undefined ? null : parseOpenDoc(text);
    this.#date = today;
    this.#quotaBase = this.#counted();
    if (open !== null && open.date < today) {
      // The agent was down across midnight: that day ends with what was kept of it.
      this.#o.log.info({ date: open.date }, "closing the day the agent was stopped in, with what was kept of it");
      this.#close(open, this.#emptyDoc(today));
    } else if (open !== null) {
      if (open.date > today)
        this.#o.log.warn(
          { kept: open.date, today },
          "daily statistics kept for a later day than today (the clock moved back): counted into today",
        );
      this.#restore(open);
    }
    this.#started = true;
    this.#schedule(now);
    this.#flushTimer = this.#o.clock.setInterval(() => this.flush(), this.#o.flushMs ?? FLUSH_MS);
  }

  async stop(): Promise<void> {
    this.#o.clock.clearTimeout(this.#midnight);
    this.#o.clock.clearInterval(this.#flushTimer);
    this.#midnight = this.#flushTimer = undefined;
    if (this.#started) {
      this.#dirty = true;
      this.flush();
    }
    this.#started = false;
  }

  /** Hot path: called by the pipeline with every reading after the rules. */
  observe(reading: Reading): void {
    if (!this.#started) return;
    let dev = this.#acc.get(reading.deviceId);
    if (dev === undefined) {
      dev = new Map();
      this.#acc.set(reading.deviceId, dev);
    }
    const values = reading.values;
    for (const k in values) {
      const v = values[k];
      if (typeof v !== "number" || !Number.isFinite(v)) continue;
      let a = dev.get(k);
      if (a === undefined) {
        a = new Float64Array(4);
        dev.set(k, a);
      }
      if (a[COUNT] === 0) {
        a[MIN] = v;
        a[MAX] = v;
        a[SUM] = v;
        a[COUNT] = 1;
      } else {
        if (v < (a[MIN] as number)) a[MIN] = v;
        if (v > (a[MAX] as number)) a[MAX] = v;
        a[SUM] = (a[SUM] as number) + v;
        a[COUNT] = (a[COUNT] as number) + 1;
      }
    }
    this.#dirty = true;
  }

  /** Writes the running day's accumulators (periodically and at stop). */
  flush(): void {
    if (!this.#dirty || !this.#started) return;
    this.#dirty = false;
    try {
      this.#repo.saveOpen(JSON.stringify(this.#openDoc()));
    } catch (err) {
      this.#dirty = true;
      this.#o.log.error({ err }, "cannot write the day's statistics; will retry");
    }
  }

  /** The local date being accumulated. */
  get date(): string {
    return this.#date;
  }

  /** DayStatsQueries: a stored closed day, or the latest one when `date` is undefined. */
  day(date?: string): DayStats | undefined {
    const d = date ?? this.#repo.latestDate();
    if (d === undefined) return undefined;
    const rows = this.#repo.day(d);
    if (rows.length === 0) return undefined;
    const out: DayStats = { date: d, devices: {}, quotas: {} };
    for (const r of rows) {
      const doc = JSON.parse(r.doc) as Record<string, unknown>;
      if (r.deviceId === "") out.quotas = doc as DayStats["quotas"];
      else out.devices[r.deviceId] = doc as DayStats["devices"][string];
    }
    return out;
  }

  /** Stored closed days, oldest first. */
  days(): string[] {
    return this.#repo.dates();
  }

  // ---- the day's end ---------------------------------------------------------------------------

  #schedule(now: number): void {
    const at = nextLocalMidnight(now, this.#o.timezone);
    this.#midnight = this.#o.clock.setTimeout(() => this.#onMidnight(), Math.max(1, at - now));
  }

  #onMidnight(): void {
    this.#midnight = undefined;
    const now = this.#o.clock.now();
    const today = localDate(now, this.#o.timezone);
    // A timer may fire a little early, or the wall clock may have been set back: the day goes on.
    if (today > this.#date) {
      const closing = this.#openDoc();
      for (const dev of this.#acc.values()) for (const a of dev.values()) a[COUNT] = 0;
      this.#date = today;
      this.#quotaCarry = {};
      this.#quotaBase = this.#counted();
      this.#dirty = false;
      this.#close(closing, this.#emptyDoc(today));
    }
    if (this.#started) this.#schedule(now);
  }

  /** Stores the closed day and the next day's (empty) accumulators, then tells the hooks. */
  #close(closing: OpenDoc, next: OpenDoc): void {
    const summary = summarize(closing);
    const rows: [string, string][] = [["", JSON.stringify(summary.quotas)]];
    for (const [id, metrics] of Object.entries(summary.devices)) rows.push([id, JSON.stringify(metrics)]);
    try {
      this.#repo.closeDay(summary.date, rows, daysBefore(summary.date, this.#o.retentionDays), JSON.stringify(next));
    } catch (err) {
      this.#o.log.error({ err, date: summary.date }, "cannot store the day's statistics; the day is lost");
      return;
    }
    this.#o.log.info(
      { date: summary.date, devices: Object.keys(summary.devices).length },
      `daily statistics of ${summary.date} stored`,
    );
    this.#o.events.emit("dayClosed", deepFreeze(summary));
  }

  // ---- the running day -------------------------------------------------------------------------

  #openDoc(): OpenDoc {
    const devices: OpenDoc["devices"] = {};
    for (const [id, metrics] of this.#acc) {
      const packed = packDevice(metrics);
      if (packed !== null) devices[id] = packed;
    }
    const counted = this.#counted();
    const quotas: Record<string, number> = {};
    for (const id of new Set([...Object.keys(this.#quotaCarry), ...Object.keys(counted)])) {
      quotas[id] = round6((this.#quotaCarry[id] ?? 0) + (counted[id] ?? 0) - (this.#quotaBase[id] ?? 0));
    }
    return { date: this.#date, devices, quotas };
  }

  #emptyDoc(date: string): OpenDoc {
    const quotas: Record<string, number> = {};
    for (const id of Object.keys(this.#counted())) quotas[id] = 0;
    return { date, devices: {}, quotas };
  }

  #restore(doc: OpenDoc): void {
    for (const [id, metrics] of Object.entries(doc.devices)) {
      const dev = new Map<string, Acc>();
      for (const [k, v] of Object.entries(metrics)) {
        if (!Array.isArray(v) || v.length !== 4 || !(v[COUNT] > 0)) continue;
        dev.set(k, Float64Array.from(v));
      }
      this.#acc.set(id, dev);
    }
    this.#quotaCarry = { ...doc.quotas };
  }

  #counted(): Record<string, number> {
    return this.#o.quotas?.countedUsage() ?? {};
  }
}
