// The agent owns an alarm's identity and lifecycle: the database, the outbox and the platform key on
// `id`, `ruleId` and `resource.id`, and the transition logic owns `status` and the timestamps. A hook
// (or any AlarmInterceptor) may only reword and re-grade an alarm. This is the one place that rule is
// written; the hook manager applies it after every beforeAlarm and the alarm service after its
// interceptor answers, so a chain of hooks never sees an identity a previous hook forged.

import type { Alarm } from "../core/types.js";

function str(v: unknown, fallback: string): string {
  return typeof v === "string" ? v : fallback;
}

function obj<T>(v: unknown, fallback: T): T {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as T) : fallback;
}

/**
 * `original` with what an interceptor may change taken from `changed`: name, title, message, type,
 * level (an integer 0–5), resource (but not its id), location, details and period. Identity
 * (`id`, `ruleId`, `resource.id`), `status`, `created`, `updated` and the upstream/work-order links
 * stay `original`'s. A value of the wrong type keeps the original one; a `changed` that cannot be
 * stored as JSON (BigInt, cycles) or is not an object leaves the alarm as it was.
 *
 * The result shares nothing with `changed` (it went through JSON, the form it is stored in) and only
 * the unchangeable fields with `original`, so the caller does not need a defensive copy of its own.
 */
export function applyHookChanges(original: Alarm, changed: unknown): Alarm {
  if (typeof changed !== "object" || changed === null || Array.isArray(changed)) return original;
  let out: Partial<Alarm>;
  try {
    // What cannot be stored as JSON must not reach the transaction.
    out = JSON.parse(JSON.stringify(changed)) as Partial<Alarm>;
  } catch {
    return original;
  }
  const level =
    typeof out.level === "number" && Number.isInteger(out.level) && out.level >= 0 && out.level <= 5
      ? out.level
      : original.level;
  return {
    ...original,
    name: str(out.name, original.name),
    title: str(out.title, original.title),
    message: str(out.message, original.message),
    type: str(out.type, original.type),
    level,
    resource: { ...obj(out.resource, original.resource), id: original.resource.id },
    location: out.location === null ? null : obj(out.location, original.location),
    details: obj(out.details, original.details),
    period: typeof out.period === "number" && out.period >= 0 ? out.period : original.period,
    status: original.status,
  };
}
