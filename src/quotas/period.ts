// Calendar periods of local time (the process's TZ): a day starts at local midnight, a month on the
// 1st at local midnight. Built from calendar fields, so a DST day is 23 or 25 hours long, not 24.

export type QuotaPeriod = "day" | "month";

export function periodStart(ts: number, period: QuotaPeriod): number {
  const d = new Date(ts);
  return period === "day"
    ? new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
    : new Date(d.getFullYear(), d.getMonth(), 1).getTime();
}

export function nextPeriodStart(start: number, period: QuotaPeriod): number {
  const d = new Date(start);
  return period === "day"
    ? new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
    : new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
}

/**
 * Splits an increase observed between two readings over the periods the interval covers, in
 * proportion to time (linear interpolation): a gap is neither zero usage nor a spike in the later period.
 */
export function splitByPeriod(
  fromTs: number,
  toTs: number,
  delta: number,
  period: QuotaPeriod,
): { start: number; amount: number }[] {
  const first = periodStart(fromTs, period);
  const last = periodStart(toTs, period);
  if (first === last || toTs <= fromTs) return [{ start: last, amount: delta }];
  const out: { start: number; amount: number }[] = [];
  const span = toTs - fromTs;
  for (let s = first; s <= last; s = nextPeriodStart(s, period)) {
    const a = Math.max(s, fromTs);
    const b = Math.min(nextPeriodStart(s, period), toTs);
    if (b > a || s === last) out.push({ start: s, amount: (delta * Math.max(0, b - a)) / span });
  }
  return out;
}
