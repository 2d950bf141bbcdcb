// Request parameters of the local API, checked strictly: a wrong type or an unknown enum value is a
// 400 naming the field, never silently replaced by a default.

import { invalid, missing } from "./errors.js";

/** A non-negative integer query parameter up to `max`; absent or empty is `undefined`. */
export function intParam(q: URLSearchParams, name: string, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > max) throw invalid(name, `expected an integer 0–${max}, got "${raw}"`);
  return n;
}

/** A required, non-empty string field of a JSON body. */
export function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null || v === "") throw missing(name);
  if (typeof v !== "string") throw invalid(name, `expected a string, got ${Array.isArray(v) ? "array" : typeof v}`);
  return v;
}
