// Removes secrets from anything the API returns or streams (/status, /events, the status page):
// values under secret-looking keys, and any known secret string wherever it appears.

const SECRET_KEY =
  /^(password|passwd|token|secret|appsecret|authorization|apikey|api_key|sign|privatekey|key_?password)$/i;
export const REDACTED = "[REDACTED]";

export function redact<T>(value: T, secrets: readonly string[]): T {
  const strong = secrets.filter((s) => s.length >= 4);
  return walk(value, strong, 0) as T;
}

function walk(v: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof v === "string") {
    let out = v;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }
  if (v === null || typeof v !== "object" || depth > 32) return v;
  if (Array.isArray(v)) return v.map((x) => walk(x, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && typeof x === "string" && x !== "" ? REDACTED : walk(x, secrets, depth + 1);
  }
  return out;
}
