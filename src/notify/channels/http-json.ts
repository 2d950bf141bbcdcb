// One JSON request to a WeCom API over the agent's shared undici dispatcher, with a deadline and the
// caller's cancel signal, and the network/HTTP side of the answer classified. The WeCom APIs answer
// HTTP 200 with `{errcode, errmsg}` for their own refusals: those are the caller's to classify.
// URLs carry secrets (access token, robot key), so no URL appears in a returned text unmasked.

import type { Dispatcher } from "undici";
import type { Clock } from "../../core/clock.js";
import { errorMessage } from "../../core/errors.js";

export interface JsonRequest {
  http: Dispatcher;
  clock: Clock;
  method: "GET" | "POST";
  url: URL;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Replaces every secret in a text that could leave the channel. */
  mask: (text: string) => string;
}

export type JsonAnswer =
  | { kind: "json"; status: number; json: Record<string, unknown> }
  | { kind: "failed"; retryable: boolean; code: string | number; message: string; retryAfterMs?: number }
  | { kind: "aborted" };

const MAX_BODY_CHARS = 64 * 1024;

export async function requestJson(r: JsonRequest): Promise<JsonAnswer> {
  if (r.signal?.aborted) return { kind: "aborted" };
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort();
  r.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = r.clock.setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, r.timeoutMs);
  const where = `${r.url.origin}${r.url.pathname}`;
  try {
    const res = await r.http.request({
      origin: r.url.origin,
      path: `${r.url.pathname}${r.url.search}`,
      method: r.method,
      headers: r.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
      ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
      signal: ctl.signal,
      headersTimeout: r.timeoutMs,
      bodyTimeout: r.timeoutMs,
    });
    let text = await res.body.text();
    if (text.length > MAX_BODY_CHARS) text = text.slice(0, MAX_BODY_CHARS);
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      const retry = status >= 500 || status === 429 || status === 408;
      const message = r.mask(`HTTP ${status} from ${where}${text ? `: ${text.slice(0, 200)}` : ""}`);
      const after = status === 429 ? retryAfterSeconds(res.headers["retry-after"]) : undefined;
      return after === undefined
        ? { kind: "failed", retryable: retry, code: status, message }
        : { kind: "failed", retryable: retry, code: status, message, retryAfterMs: after };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      // A proxy's or captive portal's page instead of the API: may be gone next time.
      return {
        kind: "failed",
        retryable: true,
        code: status,
        message: r.mask(`HTTP ${status} from ${where} is not a JSON object: ${text.slice(0, 200)}`),
      };
    }
    return { kind: "json", status, json: json as Record<string, unknown> };
  } catch (err) {
    if (r.signal?.aborted && !timedOut) return { kind: "aborted" };
    if (timedOut) {
      return {
        kind: "failed",
        retryable: true,
        code: "ETIMEDOUT",
        message: `timeout after ${r.timeoutMs} ms waiting for ${where}`,
      };
    }
    const code = (err as { code?: unknown }).code;
    const msg = errorMessage(err);
    const text = typeof code === "string" && !msg.includes(code) ? `${code} ${msg}` : msg;
    return {
      kind: "failed",
      retryable: true,
      code: typeof code === "string" ? code : "network",
      message: r.mask(`cannot reach ${where}: ${text}`),
    };
  } finally {
    r.clock.clearTimeout(timer);
    r.signal?.removeEventListener("abort", onAbort);
  }
}

function retryAfterSeconds(h: string | string[] | undefined): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim()) * 1000;
}

/** `errcode` of a WeCom answer as a number (absent or malformed: NaN). */
export function errcodeOf(json: Record<string, unknown>): number {
  const c = json.errcode;
  if (typeof c === "number") return c;
  if (typeof c === "string" && /^-?\d+$/.test(c)) return Number(c);
  return Number.NaN;
}

export function errmsgOf(json: Record<string, unknown>): string {
  return typeof json.errmsg === "string" ? json.errmsg : "";
}

/** A secret shown by its last 4 characters only ("****a1b2"), enough to tell two keys apart. */
export function maskKey(key: string): string {
  return key.length <= 4 ? "****" : `****${key.slice(-4)}`;
}

/** Replaces each secret (and its URL-encoded form) in `text` with its mask. */
export function maskAll(text: string, secrets: readonly { value: string; shown: string }[]): string {
  let out = text;
  for (const { value, shown } of secrets) {
    if (value.length === 0) continue;
    for (const form of new Set([value, encodeURIComponent(value)])) {
      if (out.includes(form)) out = out.split(form).join(shown);
    }
  }
  return out;
}

/** Cuts `s` to at most `maxBytes` of UTF-8 (WeCom counts bytes), on a character boundary. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, "utf8") <= maxBytes) return s;
  const ellipsis = "…";
  const budget = maxBytes - Buffer.byteLength(ellipsis, "utf8");
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > budget) break;
    bytes += n;
    end += ch.length;
  }
  return `${s.slice(0, end)}${ellipsis}`;
}
