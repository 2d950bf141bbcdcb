// The shapes of the daily statistics: the running accumulators as they are written between restarts,
// the closed day's summary (docs/http-api.md, GET /stats/day), and the calendar arithmetic on local
// dates ("YYYY-MM-DD") that retention needs.

import type { DayStats, MetricDayStats } from "../core/ports.js";

/** One metric's accumulator: [min, max, sum, count]; count 0 means nothing yet this day. */
export type Acc = Float64Array;
export const MIN = 0;
export const MAX = 1;
export const SUM = 2;
export const COUNT = 3;

/** The running day as written to the database: per device, per metric, [min, max, sum, count]. */
export interface OpenDoc {
  date: string;
  devices: Record<string, Record<string, [number, number, number, number]>>;
  /** Usage counted per quota so far this day. */
  quotas: Record<string, number>;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written "YYYY-MM-DD". */
export function isLocalDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** The date `days` days before `date` (both "YYYY-MM-DD"). */
export function daysBefore(date: string, days: number): string {
  const m = DATE.exec(date);
  if (m === null) throw new RangeError(`not a date: ${date}`);
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) - days);
  return new Date(t).toISOString().slice(0, 10);
}

export function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** The accumulators of one device as the open doc keeps them (metrics with no reading left out). */
export function packDevice(metrics: ReadonlyMap<string, Acc>): Record<string, [number, number, number, number]> | null {
  let out: Record<string, [number, number, number, number]> | null = null;
  for (const [k, a] of metrics) {
    if ((a[COUNT] as number) === 0) continue;
    out ??= {};
    out[k] = [a[MIN] as number, a[MAX] as number, a[SUM] as number, a[COUNT] as number];
  }
  return out;
}

/** A closed day's summary from its open doc. */
export function summarize(doc: OpenDoc): DayStats {
  const devices: DayStats["devices"] = {};
  for (const id of Object.keys(doc.devices).sort()) {
    const metrics: Record<string, MetricDayStats> = {};
    const src = doc.devices[id] ?? {};
    for (const k of Object.keys(src).sort()) {
      const [min, max, sum, count] = src[k] as [number, number, number, number];
      if (!(count > 0)) continue;
      metrics[k] = { min, max, avg: round6(sum / count), count };
    }
    if (Object.keys(metrics).length > 0) devices[id] = metrics;
  }
  const quotas: Record<string, number> = {};
  for (const id of Object.keys(doc.quotas).sort()) quotas[id] = round6(doc.quotas[id] ?? 0);
  return { date: doc.date, devices, quotas };
}

/** Reads an open doc written by an earlier run; null when it is not one (it is then ignored). */
export function parseOpenDoc(text: string): OpenDoc | null {
  try {
    const v = JSON.parse(text) as Partial<OpenDoc>;
    if (typeof v.date !== "string" || !isLocalDate(v.date)) return null;
    if (typeof v.devices !== "object" || v.devices === null) return null;
    return {
      date: v.date,
      devices: v.devices,
      quotas: typeof v.quotas === "object" && v.quotas !== null ? v.quotas : {},
    };
  } catch {
    return null;
  }
}

/** Recursively freezes a summary handed to several hooks, so none can change what the next one sees. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
