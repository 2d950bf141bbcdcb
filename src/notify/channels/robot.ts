// WeCom (企业微信) group robots (docs/notifications.md, "Channels"): one POST of a markdown message to
// the robot's webhook. The address is the robot's key, or its whole webhook URL; the key is a secret
// that anyone can post with, so it is shown by its last 4 characters only, wherever it could appear.

import type { ResolvedNotifyConfig } from "../../config/defaults.js";
import type { NotificationMessage } from "../types.js";
import { type Channel, type ChannelDeps, type ChannelResult, permanent, retryable } from "./channel.js";
import { errcodeOf, errmsgOf, maskAll, maskKey, requestJson, truncateUtf8 } from "./http-json.js";

export type RobotConfig = NonNullable<ResolvedNotifyConfig["robot"]>;

export const ROBOT_DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send";
const DEFAULT_TIMEOUT_MS = 10_000;
/** WeCom refuses markdown content over 4096 bytes; we cut first, visibly. */
const MAX_MARKDOWN_BYTES = 4096;
const BUSY = -1;
/** A robot may post 20 messages a minute. */
const RATE_LIMITED = 45009;
const RATE_LIMIT_PAUSE_MS = 60_000;

export class RobotChannel implements Channel {
  readonly name = "robot" as const;
  readonly target: string;
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #deps: ChannelDeps;

  constructor(cfg: RobotConfig, deps: ChannelDeps) {
    this.#deps = deps;
    this.#base = cfg.baseUrl ?? ROBOT_DEFAULT_BASE_URL;
    this.#timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.target = `robot:${hostOf(this.#base)}`;
  }

  async send(msg: NotificationMessage, signal?: AbortSignal): Promise<ChannelResult> {
    const addr = robotAddress(msg.to, this.#base);
    if (addr === null) {
      return permanent(`robot address ${describeRobot(msg.to)} is neither a webhook key nor an http(s) URL`, "address");
    }
    const mask = (t: string) => maskAll(t, [{ value: addr.key, shown: maskKey(addr.key) }]);
    const a = await requestJson({
      http: this.#deps.http,
      clock: this.#deps.clock,
      method: "POST",
      url: addr.url,
      body: { msgtype: "markdown", markdown: { content: truncateUtf8(msg.text, MAX_MARKDOWN_BYTES) } },
      timeoutMs: this.#timeoutMs,
      signal,
      mask,
    });
    const who = `WeCom robot ${maskKey(addr.key)}`;
    if (a.kind === "aborted") return retryable(`cancelled before ${who} answered`, "aborted");
    if (a.kind === "failed") {
      return a.retryable
        ? retryable(`${who}: ${a.message}`, a.code, a.retryAfterMs)
        : permanent(`${who}: ${a.message}`, a.code);
    }
    const errcode = errcodeOf(a.json);
    const errmsg = mask(errmsgOf(a.json));
    if (errcode === 0) return { ok: true };
    if (errcode === RATE_LIMITED) return retryable(`${who} is rate limited: ${errmsg}`, errcode, RATE_LIMIT_PAUSE_MS);
    if (errcode === BUSY || Number.isNaN(errcode)) {
      return retryable(
        `${who} answered errcode ${Number.isNaN(errcode) ? "(none)" : errcode}: ${errmsg}`,
        Number.isNaN(errcode) ? "no-errcode" : errcode,
      );
    }
    const hint = errcode === 93000 ? " — the webhook key or URL is wrong or the robot was removed from its group" : "";
    return permanent(`${who} refused the message: errcode ${errcode}: ${errmsg}${hint}`, errcode);
  }
}

/** The webhook URL of a robot address and its key ("" when a full URL carries none). */
export function robotAddress(to: string, baseUrl: string): { url: URL; key: string } | null {
  const s = to.trim();
  if (s === "") return null;
  if (/^https?:\/\//i.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      return null;
    }
    return { url, key: url.searchParams.get("key") ?? "" };
  }
  if (/[\s/?#&]/.test(s)) return null;
  const url = new URL(baseUrl);
  url.searchParams.set("key", s);
  return { url, key: s };
}

/** A robot address as it may be shown: the key masked, a URL without its query. */
export function describeRobot(to: string): string {
  const s = to.trim();
  if (/^https?:\/\//i.test(s)) {
    try {
      const u = new URL(s);
      const key = u.searchParams.get("key");
      return `${u.origin}${u.pathname}${key ? `?key=${maskKey(key)}` : ""}`;
    } catch {
      return "(unparsable URL)";
    }
  }
  return maskKey(s);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
