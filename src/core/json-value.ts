// Fact values as JSON for display (/status, /events, alarm details): JSON has no NaN or ±Infinity,
// and JSON.stringify would turn the value a rule saw into `null`. They are shown as the strings
// "NaN", "Infinity" and "-Infinity" instead. Keys such as `__proto__` stay ordinary keys.

/** A number JSON can carry as is, or its display string ("NaN", "Infinity", "-Infinity"). */
export function displayNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

function needsEncoding(v: unknown, depth: number): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  if (v === null || typeof v !== "object" || depth > 64) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (needsEncoding(v[i], depth + 1)) return true;
    return false;
  }
  for (const k in v)
    if (Object.hasOwn(v, k) && needsEncoding((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

function encode(v: unknown, depth: number): unknown {
  if (typeof v === "number") return displayNumber(v);
  if (v === null || typeof v !== "object" || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => encode(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) setOwn(out, k, encode((v as Record<string, unknown>)[k], depth + 1));
  return out;
}

/**
 * A fact value ready for JSON: non-finite numbers (also inside arrays and objects) become their
 * display strings. Returns the value itself when nothing needs encoding (the common case).
 */
export function toDisplayJson(v: unknown): unknown {
  return needsEncoding(v, 0) ? encode(v, 0) : v;
}

/**
 * Sets an own, enumerable property even for `__proto__` (plain assignment would set the prototype).
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__" && !Object.hasOwn(target, key))
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
