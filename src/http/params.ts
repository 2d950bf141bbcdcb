// Query-string parameters of the alarm endpoints, checked strictly: a wrong type or an unknown
// enum value is a 400 naming the field, never silently replaced by a default.

import type { AlarmListQuery } from "../core/ports.js";
import type { Alarm } from "../core/types.js";
import { invalid, missing } from "./errors.js";

export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 100;

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw invalid(name, `expected an integer ${min}–${max}, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw invalid(name, `expected an integer ${min}–${max}, got ${raw}`);
  return n;
}

function enumParam<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw invalid(name, `expected one of ${allowed.join(", ")}`);
  return raw as T;
}

export function requiredString(q: URLSearchParams, name: string): string {
  const raw = q.get(name);
  if (raw === null || raw.trim() === "") throw missing(name);
  return raw;
}

export interface ParsedAlarmList extends AlarmListQuery {
  offset: number;
  limit: number;
}

export function parseAlarmList(q: URLSearchParams): ParsedAlarmList {
  const out: ParsedAlarmList = {
    offset: intParam(q, "offset", 0, Number.MAX_SAFE_INTEGER) ?? 0,
    limit: intParam(q, "limit", 0, MAX_LIST_LIMIT) ?? DEFAULT_LIST_LIMIT,
  };
  const order = enumParam(q, "order", ["asc", "desc"] as const);
  if (order) out.order = order;
  const orderBy = enumParam(q, "orderBy", ["created", "updated", "level", "status"] as const);
  if (orderBy) out.orderBy = orderBy;
  const text = q.get("q");
  if (text) out.q = text;
  const did = q.get("did");
  if (did) out.did = did;
  const status = enumParam(q, "status", ["0", "1", "2", "active", "all"] as const);
  if (status) out.status = status === "active" || status === "all" ? status : (Number(status) as 0 | 1 | 2);
  return out;
}

/** The upstream platform names the device `device`; the local alarm calls it `resource`. Both are given. */
export function alertShape(a: Alarm): Alarm & { device: Alarm["resource"] } {
  return { ...a, device: a.resource };
}
