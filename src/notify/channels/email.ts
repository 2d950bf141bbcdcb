// E-mail over SMTP (docs/notifications.md, "Channels"): one pooled nodemailer transport for the agent,
// opened on the first message and closed on stop. What the server says decides what the outbox does:
// a 5xx reply (550 mailbox unavailable) is permanent for that message, a 4xx reply, a refused or
// dropped connection or a timeout is retried. A refused login is retried too: it concerns every
// message alike, and the backlog should go out once the credentials are put right. The password
// never appears in a log line or a result.

import type { NodemailerError, SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from "nodemailer";
import nodemailer from "nodemailer";
import type { ResolvedNotifyConfig } from "../../config/defaults.js";
import { maskText, REDACTED } from "../../core/secrets.js";
import type { NotificationMessage } from "../types.js";
import { type Channel, type ChannelDeps, type ChannelResult, permanent, retryable } from "./channel.js";

export type EmailConfig = NonNullable<ResolvedNotifyConfig["email"]>;

const DEFAULT_TIMEOUT_MS = 15_000;
/** A site's mail relay is rarely sized for many parallel sessions from one device. */
const MAX_CONNECTIONS = 2;

/** Port of the config, or the standard one for its TLS mode. */
export function smtpPort(cfg: EmailConfig): number {
  return cfg.port ?? (cfg.secure === true ? 465 : 587);
}

/** nodemailer options for the config (exported for the tests of the TLS modes). */
export function transportOptions(cfg: EmailConfig): SMTPPoolOptions & { pool: true } {
  const timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secure = cfg.secure === true;
  const starttls = cfg.starttls ?? "opportunistic";
  const o: SMTPPoolOptions & { pool: true } = {
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    host: cfg.host,
    port: smtpPort(cfg),
    secure,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // nodemailer's own logger would write SMTP traffic (and AUTH lines) to the console.
    logger: false,
    debug: false,
  };
  if (!secure) {
    if (starttls === "required") o.requireTLS = true;
    else if (starttls === "off") o.ignoreTLS = true;
    // Opportunistic: upgrade when offered, and carry on in plain text when the upgrade fails.
    else o.opportunisticTLS = true;
  }
  if (cfg.user !== undefined && cfg.user !== "") o.auth = { user: cfg.user, pass: cfg.password ?? "" };
  return o;
}

export class EmailChannel implements Channel {
  readonly name = "email" as const;
  readonly target: string;
  readonly #cfg: EmailConfig;
  readonly #deps: ChannelDeps;
  readonly #timeoutMs: number;
  #transport: Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions> | null = null;
  #closed = false;

  constructor(cfg: EmailConfig, deps: ChannelDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.target = `email:${cfg.host}:${smtpPort(cfg)}`;
  }

  async send(msg: NotificationMessage, signal?: AbortSignal): Promise<ChannelResult> {
    if (this.#closed) return retryable("the e-mail channel is stopped", "closed");
    if (signal?.aborted) return retryable("cancelled before the message was handed to the SMTP server", "aborted");
    const ctl = new AbortController();
    let timedOut = false;
    const onAbort = () => ctl.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = this.#deps.clock.setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, this.#timeoutMs);
    try {
      const info = await this.#pool().sendMail({
        from: this.#cfg.from,
        to: msg.to,
        subject: msg.subject,
        text: msg.text,
        ...(msg.html !== undefined ? { html: msg.html } : {}),
        // Tells mail servers and vacation responders that nobody should answer this message.
        headers: { "Auto-Submitted": "auto-generated" },
        signal: ctl.signal,
      });
      return { ok: true, info: { messageId: info.messageId, response: this.#mask(String(info.response ?? "")) } };
    } catch (err) {
      if (timedOut) {
        return retryable(`no answer from SMTP server ${this.#where()} within ${this.#timeoutMs} ms`, "ETIMEDOUT");
      }
      if (signal?.aborted) return retryable("cancelled while sending to the SMTP server", "aborted");
      return classifySmtpError(err as NodemailerError, this.#where(), (t) => this.#mask(t));
    } finally {
      this.#deps.clock.clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#transport?.close();
    this.#transport = null;
  }

  #pool(): Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions> {
    if (this.#transport === null) {
      const t = nodemailer.createTransport(transportOptions(this.#cfg));
      // A pooled connection that fails between messages is reported here; the next message opens a new one.
      t.on("error", (err: Error) =>
        this.#deps.log.debug({ channel: "email", reason: this.#mask(err.message) }, "SMTP connection closed"),
      );
      this.#transport = t;
    }
    return this.#transport;
  }

  #where(): string {
    return `${this.#cfg.host}:${smtpPort(this.#cfg)}`;
  }

  #mask(text: string): string {
    const pw = this.#cfg.password;
    return pw ? maskText(text, [pw], REDACTED) : text;
  }
}

/** What an SMTP failure means for the message (exported for unit tests). */
export function classifySmtpError(err: NodemailerError, where: string, mask: (t: string) => string): ChannelResult {
  const reply = err.responseCode;
  const said = mask((err.response ?? err.message ?? "").trim());
  const during = err.command ? ` (${err.command.split(/[\s:]/)[0]?.toUpperCase() ?? err.command})` : "";
  if (err.code === "EAUTH" || err.code === "ENOAUTH") {
    return retryable(
      `SMTP server ${where} refused the login${during}: ${said} — check notify.email.user and notify.email.password (SMTP_PASSWORD)`,
      reply ?? err.code,
    );
  }
  const tlsHint = " — check notify.email.secure / notify.email.starttls";
  if (typeof reply === "number" && reply >= 400) {
    const text = `SMTP server ${where} answered ${said.startsWith(String(reply)) ? said : `${reply} ${said}`}${during}`;
    // Only a refusal of this message (its sender, a recipient, its content) is final for it; a
    // refused greeting, EHLO or STARTTLS is about the server and concerns every message alike.
    if (!aboutTheMessage(err)) return retryable(/STARTTLS/i.test(during) ? `${text}${tlsHint}` : text, reply);
    const isPermanent = typeof err.permanent === "boolean" ? err.permanent : reply >= 500 && reply !== 503;
    return isPermanent ? permanent(text, reply) : retryable(text, reply);
  }
  if (err.code === "ETLS" || err.code === "EREQUIRETLS") {
    return retryable(`TLS with SMTP server ${where} failed: ${said}${tlsHint}`, err.code);
  }
  const code = err.originalCode ?? err.code ?? "ESOCKET";
  const text =
    err.code === "ETIMEDOUT"
      ? `timeout talking to SMTP server ${where}: ${said}`
      : `cannot reach SMTP server ${where}: ${said}`;
  return retryable(text.includes(code) ? text : `${text} (${code})`, code);
}

function aboutTheMessage(err: NodemailerError): boolean {
  if (err.code === "EENVELOPE" || err.code === "EMESSAGE") return true;
  return /^(MAIL|RCPT|DATA)\b/i.test(err.command ?? "");
}
