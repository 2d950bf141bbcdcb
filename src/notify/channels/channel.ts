// What every notification channel offers (docs/notifications.md, "Channels"): one `send` of one
// rendered message to one address, answered with a result the outbox can act on. A channel never
// throws for a delivery problem: a refused or failed send is a result, retryable or permanent, and
// its text never carries a secret (SMTP password, WeCom secret or access token, robot key).

import type { Dispatcher } from "undici";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { ChannelName, NotificationMessage } from "../types.js";

export type ChannelResult =
  | { ok: true; info?: Record<string, unknown> }
  | {
      ok: false;
      /** true: the same message to the same address will be refused again (dead-letter it). */
      permanent: boolean;
      /** The service's own code: SMTP reply code, WeCom errcode, HTTP status, or a network error code. */
      code?: string | number;
      message: string;
      /** The service asked for a pause before the next attempt (rate limit). */
      retryAfterMs?: number;
    };

export interface Channel {
  readonly name: ChannelName;
  /** Per-channel delivery target name for health/backoff (e.g. "email:smtp.example.com:587"). */
  readonly target: string;
  send(msg: NotificationMessage, signal?: AbortSignal): Promise<ChannelResult>;
  /** Releases connections (the SMTP pool); the channel sends nothing afterwards. */
  close?(): Promise<void>;
}

/** What the built-in channels are built from; all passed in, none global. */
export interface ChannelDeps {
  /** The agent's shared HTTP client (connection pool, TLS settings). */
  http: Dispatcher;
  clock: Clock;
  log: Logger;
}

/** A failed result that may succeed later. */
export function retryable(message: string, code?: string | number, retryAfterMs?: number): ChannelResult {
  const r: ChannelResult = { ok: false, permanent: false, message };
  if (code !== undefined) r.code = code;
  if (retryAfterMs !== undefined) r.retryAfterMs = retryAfterMs;
  return r;
}

/** A failed result that will fail the same way every time. */
export function permanent(message: string, code?: string | number): ChannelResult {
  const r: ChannelResult = { ok: false, permanent: true, message };
  if (code !== undefined) r.code = code;
  return r;
}

/** Closes every channel that holds connections; never throws. */
export async function closeChannels(channels: Iterable<Channel>): Promise<void> {
  await Promise.allSettled([...channels].map((c) => c.close?.()));
}
