// Retry delays (docs/upstream.md): exponential from 1 s doubling to a 5 min cap, with "full jitter" in the
// upper half so that many gateways recovering from the same outage do not retry in lockstep.

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** Delay before retry number `attempt` (1 = first retry): in [d/2, d] where d = min(base·2^(attempt-1), max). */
export function backoffMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = BACKOFF_BASE_MS,
  maxMs = BACKOFF_MAX_MS,
): number {
  const exp = Math.min(Math.max(0, attempt - 1), 30);
  const d = Math.min(baseMs * 2 ** exp, maxMs);
  return Math.round(d / 2 + random() * (d / 2));
}

/** `Retry-After` header (seconds or HTTP date) in ms, bounded by the cap; undefined when absent/invalid. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v === "") return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, BACKOFF_MAX_MS);
  const t = Date.parse(v);
  if (Number.isFinite(t)) return Math.min(Math.max(0, t - nowMs), BACKOFF_MAX_MS);
  return undefined;
}
