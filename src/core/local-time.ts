// Local calendar arithmetic in a named time zone, for what follows the site's day rather than UTC:
// task schedules given as times of day, the close of a day's statistics, KPI periods.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
    });
    formatters.set(tz, f);
  }
  return f;
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall-clock fields of `epochMs` in `tz`. */
export function localParts(epochMs: number, tz: string): LocalParts {
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(tz).formatToParts(epochMs)) {
    switch (p.type) {
      case "year":
        out.year = Number(p.value);
        break;
      case "month":
        out.month = Number(p.value);
        break;
      case "day":
        out.day = Number(p.value);
        break;
      case "hour":
        out.hour = Number(p.value);
        break;
      case "minute":
        out.minute = Number(p.value);
        break;
      case "second":
        out.second = Number(p.value);
        break;
      case "weekday":
        out.weekday = WEEKDAYS[p.value] ?? 0;
        break;
      default:
        break;
    }
  }
  return out;
}

/** Offset of `tz` from UTC at `epochMs`, ms (positive east of Greenwich). */
export function zoneOffsetMs(epochMs: number, tz: string): number {
  const p = localParts(epochMs, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** The local date of `epochMs` in `tz`, "YYYY-MM-DD". */
export function localDate(epochMs: number, tz: string): string {
  const p = localParts(epochMs, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/**
 * The first instant of the local day after the one `epochMs` falls in. A day is not always 24 h
 * (DST): the answer is found from the local date, not by adding a day's milliseconds.
 */
export function nextLocalMidnight(epochMs: number, tz: string): number {
  const p = localParts(epochMs, tz);
  return localMidnight(p.year, p.month, p.day + 1, tz);
}

/** The first instant of local date year-month-day in `tz` (day may overflow the month). */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  const guess = Date.UTC(year, month - 1, day);
  // Two passes: the offset at the guess may differ from the offset at the answer across a DST change.
  let t = guess - zoneOffsetMs(guess, tz);
  t = guess - zoneOffsetMs(t, tz);
  // Where midnight itself does not exist (a zone that springs forward at 00:00), the day starts at
  // the first instant after the gap.
  const p = localParts(t, tz);
  if (p.hour !== 0 && localDate(t, tz) !== localDate(guess, "UTC")) t += (24 - p.hour) * 3_600_000;
  return t;
}
