// The config as anything but the agent's own clients may see it (/status, the status page, hooks'
// ctx.config): every value under a secret key (core/secrets.ts) replaced, wherever it sits —
// mqtt.password, mqtt.users[].password, upstream.token, workOrders.appSecret, http.token and any key
// added later that looks like one — and every other known secret masked inside ordinary strings
// (a token substituted into a URL's query string).

import { setOwn } from "../core/json-value.js";
import { isSecretKey, MIN_MASKED_LENGTH, maskText, REDACTED } from "../core/secrets.js";

const MAX_DEPTH = 32;

/** Every non-empty string under a secret key, at any depth (the secrets the config itself holds). */
export function configSecrets(config: unknown): string[] {
  const out = new Set<string>();
  const visit = (v: unknown, key: string | null, depth: number): void => {
    if (typeof v === "string") {
      if (key !== null && isSecretKey(key) && v.length >= MIN_MASKED_LENGTH) out.add(v);
      return;
    }
    if (v === null || typeof v !== "object" || depth > MAX_DEPTH) return;
    // An array's elements stand under the array's key (`tokens: ["a", "b"]`).
    if (Array.isArray(v)) for (const x of v) visit(x, typeof x === "string" ? key : null, depth + 1);
    else for (const [k, x] of Object.entries(v)) visit(x, k, depth + 1);
  };
  visit(config, null, 0);
  return [...out];
}

/**
 * A deep-frozen copy of `config` without secrets: values under secret keys become `[REDACTED]`, and
 * each of `secrets` (plus the config's own) is masked inside every other string.
 */
export function redactConfig<T>(config: T, secrets: readonly string[] = []): T {
  const known = [...new Set([...secrets, ...configSecrets(config)])]
    .filter((s) => s.length >= MIN_MASKED_LENGTH)
    .sort((a, b) => b.length - a.length);
  return walk(config, null, known, 0) as T;
}

function walk(v: unknown, key: string | null, secrets: readonly string[], depth: number): unknown {
  if (typeof v === "string") {
    if (key !== null && isSecretKey(key) && v !== "") return REDACTED;
    return maskText(v, secrets);
  }
  if (v === null || typeof v !== "object" || depth > MAX_DEPTH) return v;
  if (Array.isArray(v)) {
    return Object.freeze(v.map((x) => walk(x, typeof x === "string" ? key : null, secrets, depth + 1)));
  }
  const out: Record<string, unknown> = {};
  // setOwn: a device id such as `__proto__` stays an ordinary key.
  for (const [k, x] of Object.entries(v)) setOwn(out, k, walk(x, k, secrets, depth + 1));
  return Object.freeze(out);
}
