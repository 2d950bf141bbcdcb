// Removes secrets from a value before it leaves the agent in a readable form (the HTTP API's
// answers and event stream, the status page, the command line's alarm listings): values under
// secret-looking keys, and any known secret string wherever it appears. What is secret is decided
// in secrets.ts; this is the walk over a value that applies it.

import { displayNumber, setOwn } from "./json-value.js";
import { isSecretKey, MIN_MASKED_LENGTH, maskText, REDACTED } from "./secrets.js";

export function redact<T>(value: T, secrets: readonly string[]): T {
  // Values are compared unescaped here: the JSON-escaped forms matter only in serialized text.
  const strong = secrets.filter((s) => s.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length);
  return walk(value, strong, 0) as T;
}

function walk(v: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof v === "string") return maskText(v, secrets);
  // JSON has no NaN/Infinity: show what a rule saw ("NaN", "Infinity", "-Infinity"), not null.
  if (typeof v === "number") return displayNumber(v);
  if (v === null || typeof v !== "object" || depth > 32) return v;
  if (Array.isArray(v)) return v.map((x) => walk(x, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    // setOwn: a device's `__proto__` fact stays an ordinary key.
    setOwn(out, k, isSecretKey(k) && typeof x === "string" && x !== "" ? REDACTED : walk(x, secrets, depth + 1));
  }
  return out;
}
