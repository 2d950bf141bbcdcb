// One POST over the injected undici dispatcher, and the classification of its result into what the
// outbox does next (docs/upstream.md): delivered, retry (timeout, connection error, 5xx, 429), pause
// (401/403, codes 100401/100403), dead-letter (400, code 104001). For the work-order API any other
// non-zero `code` in a 2xx answer is the platform's decision about that item, so it dead-letters too
// (with the code and msg kept); the alarm API keeps retrying such answers. Error texts never carry secrets.

import type { Dispatcher as HttpDispatcher } from "undici";
import type { Clock } from "../core/clock.js";
import { errorMessage } from "../core/errors.js";
import { maskSecrets } from "../core/log.js";
import type { PlatformAnswer } from "../store/outbox-repo.js";
import { rawMembers } from "../workorders/json-raw.js";
import { retryAfterMs } from "./backoff.js";

export type SendOutcome =
  | { kind: "ok"; status: number; text: string }
  | { kind: "retry"; reason: string; afterMs?: number }
  | { kind: "pause"; reason: string }
  | { kind: "dead"; reason: string; answer?: PlatformAnswer }
  /** Cancelled by stop(): not an attempt, the row stays as it was. */
  | { kind: "aborted" };

export interface PostOptions {
  http: HttpDispatcher;
  clock: Clock;
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the request (shutdown). */
  signal: AbortSignal;
  /** Values to mask out of any error text. */
  secrets: readonly string[];
  /** A non-zero `code` in a 2xx answer is final (work-order API): dead-letter instead of retry. */
  codeIsAnswer?: boolean;
}

const MAX_BODY_CHARS = 64 * 1024;

export async function post(opts: PostOptions): Promise<SendOutcome> {
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort();
  opts.signal.addEventListener("abort", onAbort, { once: true });
  const timer = opts.clock.setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, opts.timeoutMs);
  const where = opts.url.pathname;
  try {
    const res = await opts.http.request({
      origin: opts.url.origin,
      path: `${opts.url.pathname}${opts.url.search}`,
      method: "POST",
      headers: opts.headers,
      body: opts.body,
      signal: ctl.signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    let text = await res.body.text();
    if (text.length > MAX_BODY_CHARS) text = text.slice(0, MAX_BODY_CHARS);
    const retryAfter = res.headers["retry-after"];
    return classify(res.statusCode, text, retryAfterMs(retryAfter, opts.clock.now()), where, opts.secrets, {
      codeIsAnswer: opts.codeIsAnswer ?? false,
    });
  } catch (err) {
    if (opts.signal.aborted && !timedOut) return { kind: "aborted" };
    const reason = timedOut
      ? `timeout after ${opts.timeoutMs} ms waiting for ${opts.url.origin}${where}`
      : `cannot reach ${opts.url.origin}${where}: ${networkMessage(err)}`;
    return { kind: "retry", reason: maskSecrets(reason, opts.secrets) };
  } finally {
    opts.clock.clearTimeout(timer);
    opts.signal.removeEventListener("abort", onAbort);
  }
}

function networkMessage(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const msg = errorMessage(err);
  return typeof code === "string" && !msg.includes(code) ? `${code} ${msg}` : msg;
}

/** Platform error codes carried in a JSON body (`{"code": 104001, "msg": ...}`). */
export function bodyCode(text: string): { code: string | null; msg: string | null } {
  const m = rawMembers(text);
  if (m === null) return { code: null, msg: null };
  const code = m.get("code") ?? null;
  let msg: string | null = null;
  const raw = m.get("msg") ?? m.get("message");
  if (raw !== undefined) {
    try {
      msg = String(JSON.parse(raw));
    } catch {
      msg = raw;
    }
  }
  return { code: code === null ? null : code.replace(/^"|"$/g, ""), msg };
}

export function classify(
  status: number,
  text: string,
  retryAfter: number | undefined,
  where: string,
  secrets: readonly string[] = [],
  opts: { codeIsAnswer?: boolean } = {},
): SendOutcome {
  const { code, msg } = bodyCode(text);
  const detail = maskSecrets(
    `HTTP ${status} from ${where}${code !== null && code !== "0" ? ` code ${code}` : ""}${msg ? `: ${msg}` : text && status >= 300 ? `: ${text.slice(0, 200)}` : ""}`,
    secrets,
  );
  if (status === 401 || status === 403 || code === "100401" || code === "100403") {
    return { kind: "pause", reason: `${detail} — credentials refused; delivery paused (check the token / appSecret)` };
  }
  if (status === 400 || status === 413 || status === 422 || code === "104001") {
    if (code === null || code === "0") return { kind: "dead", reason: detail };
    return { kind: "dead", reason: detail, answer: { code, msg: msg === null ? null : maskSecrets(msg, secrets) } };
  }
  if (status >= 200 && status < 300) {
    if (code === null || code === "0") return { kind: "ok", status, text };
    if (opts.codeIsAnswer) {
      // 401/403 as an answer code (e.g. a signature refused) is about the credentials, not this item.
      if (code === "401" || code === "403") {
        return { kind: "pause", reason: `${detail} — credentials refused; delivery paused (check appId / appSecret)` };
      }
      const masked = msg === null ? null : maskSecrets(msg, secrets);
      return {
        kind: "dead",
        reason: `refused by the platform: code ${code}${masked ? `: ${masked}` : ""} (HTTP ${status} from ${where})`,
        answer: { code, msg: masked },
      };
    }
    return { kind: "retry", reason: detail };
  }
  if (status === 429 || status === 408 || status >= 500) {
    return retryAfter !== undefined
      ? { kind: "retry", reason: detail, afterMs: retryAfter }
      : { kind: "retry", reason: detail };
  }
  // Other statuses (404 wrong baseUrl, 3xx proxy pages…) are configuration problems: keep the
  // item and retry with backoff rather than dead-lettering the whole backlog.
  return { kind: "retry", reason: detail };
}
