// The slots of a task's schedule (docs/tasks.md, Schedules): the instants a task is due, in its time
// zone. Cron expressions and times of day are computed by croner (a times-of-day schedule is turned
// into one cron expression per time), so daylight-saving changes follow one rule for both: a slot
// that falls in the hour skipped in spring runs once at the shifted time, a slot in the hour repeated
// in autumn runs once. `every` is plain arithmetic on the epoch, so its slots survive a restart.

import { Cron } from "croner";
import type { TaskSchedule } from "./types.js";

/** A schedule that is not usable, with the JSON path of the offending field under the task. */
export class ScheduleError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ScheduleError";
    this.path = path;
  }
}

export interface CompiledSchedule {
  /** The first slot strictly after `after` (epoch ms), or null when there is none (e.g. 30 February). */
  next(after: number): number | null;
  /** The last slot at or before `atOrBefore`, or null when there is none. */
  previous(atOrBefore: number): number | null;
  /** The schedule in words, for logs. */
  readonly text: string;
}

/**
 * Compiles a schedule for a time zone. Throws ScheduleError naming the field (`$.schedule.cron`,
 * `$.schedule.times[1]`, `$.timezone`…) and what is wrong with it.
 */
export function compileSchedule(schedule: TaskSchedule, timezone: string): CompiledSchedule {
  const s = schedule as Partial<Record<"cron" | "every" | "times" | "days", unknown>>;
  const kinds = (["cron", "every", "times"] as const).filter((k) => s[k] !== undefined);
  if (kinds.length !== 1) {
    throw new ScheduleError(
      "$.schedule",
      kinds.length === 0
        ? 'needs one of "cron", "every" or "times"'
        : `has ${kinds.map((k) => `"${k}"`).join(" and ")}; give exactly one of them`,
    );
  }
  checkTimeZone(timezone);
  if (s.every !== undefined) return everySchedule(s.every);
  if (s.cron !== undefined) {
    if (s.days !== undefined)
      throw new ScheduleError("$.schedule.days", 'goes with "times" only; put the weekdays in the cron expression');
    return cronSchedule(s.cron, timezone);
  }
  return timesSchedule(s.times, s.days, timezone);
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new ScheduleError("$.timezone", `unknown time zone "${tz}" (use an IANA name such as Europe/Prague or UTC)`);
  }
}

function everySchedule(every: unknown): CompiledSchedule {
  if (typeof every !== "number" || !Number.isFinite(every) || every < 1) {
    throw new ScheduleError(
      "$.schedule.every",
      `must be a number of seconds, at least 1 (got ${JSON.stringify(every)})`,
    );
  }
  const step = Math.round(every * 1000);
  return {
    text: `every ${every} s`,
    next: (after) => (Math.floor(after / step) + 1) * step,
    previous: (t) => Math.floor(t / step) * step,
  };
}

function cronSchedule(expr: unknown, timezone: string): CompiledSchedule {
  if (typeof expr !== "string" || expr.trim() === "") {
    throw new ScheduleError("$.schedule.cron", 'must be a cron expression such as "0 6 * * 1-5"');
  }
  const fields = expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new ScheduleError(
      "$.schedule.cron",
      `"${expr}" has ${fields} fields; give 5 (minute hour day month weekday) or 6 (second first)`,
    );
  }
  const cron = makeCron(expr, timezone, "$.schedule.cron");
  return fromCrons([cron], `cron "${expr}" (${timezone})`);
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

function timesSchedule(times: unknown, days: unknown, timezone: string): CompiledSchedule {
  if (!Array.isArray(times) || times.length === 0) {
    throw new ScheduleError("$.schedule.times", 'must be a non-empty list of times of day such as ["06:00", "18:30"]');
  }
  let dow = "*";
  if (days !== undefined) {
    if (
      !Array.isArray(days) ||
      days.length === 0 ||
      days.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 1 || d > 7)
    ) {
      throw new ScheduleError(
        "$.schedule.days",
        `must be a non-empty list of weekdays 1 (Monday) … 7 (Sunday) (got ${JSON.stringify(days)})`,
      );
    }
    // croner's weekdays: 0 or 7 is Sunday, 1 Monday: the same numbers, 7 included.
    dow = [...new Set(days as number[])].sort((a, b) => a - b).join(",");
  }
  const crons = times.map((t, i) => {
    const m = typeof t === "string" ? TIME.exec(t) : null;
    if (m === null) {
      throw new ScheduleError(
        `$.schedule.times[${i}]`,
        `${JSON.stringify(t)} is not a time of day "HH:MM" or "HH:MM:SS" (00:00 … 23:59:59)`,
      );
    }
    return makeCron(
      `${Number(m[3] ?? 0)} ${Number(m[2])} ${Number(m[1])} * * ${dow}`,
      timezone,
      `$.schedule.times[${i}]`,
    );
  });
  const on = days === undefined ? "every day" : `on weekdays ${dow}`;
  return fromCrons(crons, `at ${(times as string[]).join(", ")} ${on} (${timezone})`);
}

function makeCron(expr: string, timezone: string, path: string): Cron {
  try {
    return new Cron(expr, { timezone, paused: true });
  } catch (err) {
    const reason = (err as Error).message.replace(/^CronPattern:\s*/, "");
    throw new ScheduleError(path, `invalid cron expression "${expr}": ${reason}`);
  }
}

function fromCrons(crons: readonly Cron[], text: string): CompiledSchedule {
  const nextOf = (c: Cron, after: number): number | null => {
    // croner works in whole seconds: ask from the second `after` falls in, skip what is not after it.
    let from = after;
    for (let i = 0; i < 3; i++) {
      const d = c.nextRun(new Date(from));
      if (d === null) return null;
      const t = d.getTime();
      if (t > after) return t;
      from = t;
    }
    return null;
  };
  const previousOf = (c: Cron, t: number): number | null => {
    // previousRuns answers strictly before its reference, in whole seconds.
    const d = c.previousRuns(1, new Date(Math.floor(t / 1000) * 1000 + 1000))[0];
    return d === undefined ? null : d.getTime();
  };
  return {
    text,
    next: (after) => pick(crons, (c) => nextOf(c, after), Math.min),
    previous: (t) => pick(crons, (c) => previousOf(c, t), Math.max),
  };
}

function pick(
  crons: readonly Cron[],
  f: (c: Cron) => number | null,
  best: (a: number, b: number) => number,
): number | null {
  let out: number | null = null;
  for (const c of crons) {
    const v = f(c);
    if (v !== null) out = out === null ? v : best(out, v);
  }
  return out;
}
