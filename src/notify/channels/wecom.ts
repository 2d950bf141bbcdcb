// WeCom (企业微信) application messages to a user's WeCom id (docs/notifications.md, "Channels").
// An access token is fetched with the corp id and the application's secret and kept until shortly
// before WeCom says it expires; every send reuses it, and concurrent sends share one fetch. When
// WeCom refuses the token anyway (expired early, revoked), it is dropped and the send is tried once
// more with a fresh one. The secret and the token travel in URLs only: every text that leaves this
// module is masked.

import type { ResolvedNotifyConfig } from "../../config/defaults.js";
import { REDACTED } from "../../core/secrets.js";
import type { NotificationMessage } from "../types.js";
import { type Channel, type ChannelDeps, type ChannelResult, permanent, retryable } from "./channel.js";
import { errcodeOf, errmsgOf, maskAll, maskKey, requestJson, truncateUtf8 } from "./http-json.js";

export type WecomConfig = NonNullable<ResolvedNotifyConfig["wecom"]>;

export const WECOM_DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com";
const DEFAULT_TIMEOUT_MS = 10_000;
/** WeCom cuts text messages at 2048 bytes; we cut first, visibly. */
const MAX_TEXT_BYTES = 2048;
/** Token refusals: invalid, expired, bad credential, missing. */
const TOKEN_ERRCODES = new Set([40014, 42001, 40001, 41001]);
/** System busy, and the API's frequency limit. */
const BUSY = -1;
const RATE_LIMITED = 45009;
const RATE_LIMIT_PAUSE_MS = 60_000;
/** Refusals of the agent rather than of the message (its IP not on the application's trusted list,
 *  the API not allowed to the application): every message alike waits until the site fixes it. */
const SITE_WIDE: Readonly<Record<number, string>> = {
  60020: "add the agent's public IP to the WeCom application's trusted IPs",
  48002: "allow the message API for this WeCom application",
};
/** A token is renewed this long before WeCom's expiry (at most a tenth of its lifetime). */
const RENEW_MARGIN_MS = 300_000;

interface CachedToken {
  value: string;
  /** Monotonic ms after which it is renewed before use. */
  renewAt: number;
}

type TokenOutcome = { ok: true; token: string } | { ok: false; result: ChannelResult };

export class WecomChannel implements Channel {
  readonly name = "wecom" as const;
  readonly target: string;
  readonly #cfg: WecomConfig;
  readonly #deps: ChannelDeps;
  readonly #base: string;
  readonly #timeoutMs: number;
  #token: CachedToken | null = null;
  #fetching: Promise<TokenOutcome> | null = null;
  /** Every token handed out so far (masked in texts even after it is replaced). */
  readonly #seenTokens: string[] = [];

  constructor(cfg: WecomConfig, deps: ChannelDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#base = (cfg.baseUrl ?? WECOM_DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.#timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.target = `wecom:${cfg.corpId}`;
  }

  async send(msg: NotificationMessage, signal?: AbortSignal): Promise<ChannelResult> {
    const first = await this.#accessToken(signal);
    if (!first.ok) return first.result;
    const answer = await this.#post(first.token, msg, signal);
    if (answer.kind !== "token-refused") return answer.result;
    this.#drop(first.token);
    this.#deps.log.info(
      { channel: "wecom", errcode: answer.errcode },
      "WeCom refused the access token; fetching a new one and sending again",
    );
    const second = await this.#accessToken(signal);
    if (!second.ok) return second.result;
    const again = await this.#post(second.token, msg, signal);
    if (again.kind !== "token-refused") return again.result;
    this.#drop(second.token);
    return retryable(
      this.#mask(`WeCom refused a freshly fetched access token (errcode ${again.errcode}): ${again.errmsg}`),
      again.errcode,
    );
  }

  async #post(
    token: string,
    msg: NotificationMessage,
    signal: AbortSignal | undefined,
  ): Promise<{ kind: "done"; result: ChannelResult } | { kind: "token-refused"; errcode: number; errmsg: string }> {
    const url = new URL(`${this.#base}/cgi-bin/message/send`);
    url.searchParams.set("access_token", token);
    const body = {
      touser: msg.to,
      msgtype: "text",
      agentid: this.#cfg.agentId,
      text: { content: truncateUtf8(msg.text, MAX_TEXT_BYTES) },
    };
    const a = await requestJson({
      http: this.#deps.http,
      clock: this.#deps.clock,
      method: "POST",
      url,
      body,
      timeoutMs: this.#timeoutMs,
      signal,
      mask: (t) => this.#mask(t),
    });
    if (a.kind === "aborted") return { kind: "done", result: retryable("cancelled before WeCom answered", "aborted") };
    if (a.kind === "failed") {
      const result = a.retryable
        ? retryable(a.message, a.code, a.retryAfterMs)
        : permanent(`WeCom message/send: ${a.message}`, a.code);
      return { kind: "done", result };
    }
    const errcode = errcodeOf(a.json);
    const errmsg = this.#mask(errmsgOf(a.json));
    if (errcode === 0) {
      // WeCom accepts a message and still lists the addressees it could not reach.
      const invalid = typeof a.json.invaliduser === "string" ? a.json.invaliduser.split("|") : [];
      if (invalid.includes(msg.to)) {
        return {
          kind: "done",
          result: permanent(
            `WeCom user '${msg.to}' is unknown to the application or outside its visible range (invaliduser)`,
            "invaliduser",
          ),
        };
      }
      const info: Record<string, unknown> = {};
      if (typeof a.json.msgid === "string") info.msgid = a.json.msgid;
      return { kind: "done", result: { ok: true, info } };
    }
    if (TOKEN_ERRCODES.has(errcode)) return { kind: "token-refused", errcode, errmsg };
    const fix = SITE_WIDE[errcode];
    if (fix !== undefined) {
      return {
        kind: "done",
        result: retryable(`WeCom refused the agent: errcode ${errcode}: ${errmsg} — ${fix}`, errcode),
      };
    }
    if (errcode === BUSY || errcode === RATE_LIMITED || Number.isNaN(errcode)) {
      const text = `WeCom message/send answered errcode ${Number.isNaN(errcode) ? "(none)" : errcode}: ${errmsg}`;
      return {
        kind: "done",
        result: retryable(
          text,
          Number.isNaN(errcode) ? "no-errcode" : errcode,
          errcode === RATE_LIMITED ? RATE_LIMIT_PAUSE_MS : undefined,
        ),
      };
    }
    return {
      kind: "done",
      result: permanent(`WeCom refused the message to '${msg.to}': errcode ${errcode}: ${errmsg}`, errcode),
    };
  }

  /** The cached token, or a fresh one; one fetch at a time however many sends wait for it. */
  #accessToken(signal: AbortSignal | undefined): Promise<TokenOutcome> {
    const t = this.#token;
    if (t !== null && this.#deps.clock.monotonic() < t.renewAt) return Promise.resolve({ ok: true, token: t.value });
    if (this.#fetching === null) {
      // The shared fetch is not tied to one caller's signal: another send may still need it.
      this.#fetching = this.#fetchToken().finally(() => {
        this.#fetching = null;
      });
    }
    if (signal === undefined) return this.#fetching;
    const fetching = this.#fetching;
    return new Promise<TokenOutcome>((resolve) => {
      const onAbort = () =>
        resolve({ ok: false, result: retryable("cancelled while fetching the WeCom access token", "aborted") });
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      void fetching.then((o) => {
        signal.removeEventListener("abort", onAbort);
        resolve(o);
      });
    });
  }

  async #fetchToken(): Promise<TokenOutcome> {
    const url = new URL(`${this.#base}/cgi-bin/gettoken`);
    url.searchParams.set("corpid", this.#cfg.corpId);
    url.searchParams.set("corpsecret", this.#cfg.secret);
    const startedAt = this.#deps.clock.monotonic();
    const a = await requestJson({
      http: this.#deps.http,
      clock: this.#deps.clock,
      method: "GET",
      url,
      timeoutMs: this.#timeoutMs,
      mask: (t) => this.#mask(t),
    });
    // Whatever stops a token from being fetched is not about the message: it is retried, never
    // dead-lettered, so the backlog goes out once the corp id / secret is put right.
    if (a.kind === "aborted")
      return { ok: false, result: retryable("cancelled while fetching the WeCom access token", "aborted") };
    if (a.kind === "failed") {
      return { ok: false, result: retryable(`WeCom gettoken: ${a.message}`, a.code, a.retryAfterMs) };
    }
    const errcode = errcodeOf(a.json);
    const token = a.json.access_token;
    if (errcode !== 0 || typeof token !== "string" || token === "") {
      const hint =
        errcode === 40013 || errcode === 40001 || errcode === 40091 || errcode === 40056
          ? " — check notify.wecom.corpId, notify.wecom.secret (WECOM_SECRET) and agentId"
          : "";
      const text = `WeCom gettoken refused: errcode ${Number.isNaN(errcode) ? "(none)" : errcode}: ${this.#mask(errmsgOf(a.json))}${hint}`;
      return { ok: false, result: retryable(text, Number.isNaN(errcode) ? "no-token" : errcode) };
    }
    this.#seenTokens.push(token);
    if (this.#seenTokens.length > 16) this.#seenTokens.shift();
    const lifetimeMs = Math.max(0, Number(a.json.expires_in) || 7200) * 1000;
    const margin = Math.min(RENEW_MARGIN_MS, lifetimeMs / 10);
    this.#token = { value: token, renewAt: startedAt + lifetimeMs - margin };
    this.#deps.log.debug({ channel: "wecom", expiresInS: lifetimeMs / 1000 }, "WeCom access token fetched");
    return { ok: true, token };
  }

  #drop(token: string): void {
    if (this.#token?.value === token) this.#token = null;
  }

  #mask(text: string): string {
    return maskAll(text, [
      { value: this.#cfg.secret, shown: REDACTED },
      ...this.#seenTokens.map((t) => ({ value: t, shown: maskKey(t) })),
    ]);
  }
}
