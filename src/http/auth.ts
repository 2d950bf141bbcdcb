// Who may talk to the local API: the bearer token (compared in constant time: hash both sides, then
// timingSafeEqual, so response timing tells nothing about how much of a guess was right) and the
// Host/Origin check that keeps DNS-rebinding pages out even when no token is set.

import { createHash, timingSafeEqual } from "node:crypto";
import { HostAllowList, hostOfHeader } from "../core/net.js";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

export class TokenCheck {
  readonly #expected: Buffer | null;

  /** An empty or absent token disables authentication (allowed on loopback only, see isLoopback). */
  constructor(token: string | undefined) {
    this.#expected = token ? digest(token) : null;
  }

  get required(): boolean {
    return this.#expected !== null;
  }

  /** Checks an Authorization header value ("Bearer <token>"). */
  accepts(header: string | undefined): boolean {
    if (this.#expected === null) return true;
    if (header === undefined) return false;
    const m = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
    if (!m?.[1]) return false;
    return timingSafeEqual(digest(m[1].trim()), this.#expected);
  }
}

export type HostVerdict = { ok: true; host: string; port: number | null } | { ok: false; message: string };

/**
 * The Host header must name this server as it is really reached (loopback names and addresses, the
 * bound address, http.allowedHosts; any IP when bound to every interface): a page on an attacker's
 * domain that re-resolves to this machine still sends its own domain, and is refused here.
 */
export class HostCheck {
  readonly #allow: HostAllowList;

  constructor(opts: { bindHost: string; allowedHosts?: readonly string[] | undefined; machineName?: string }) {
    this.#allow = new HostAllowList({
      bindHost: opts.bindHost,
      ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
      ...(opts.machineName !== undefined ? { machineName: opts.machineName } : {}),
    });
  }

  check(header: string | undefined): HostVerdict {
    const h = hostOfHeader(header);
    if (!h) {
      return {
        ok: false,
        message:
          header === undefined || header.trim() === ""
            ? "Permission denied: the request has no Host header"
            : "Permission denied: malformed Host header",
      };
    }
    if (!this.#allow.allows(h.host)) {
      const shown = h.host.length > 100 ? `${h.host.slice(0, 100)}…` : h.host;
      return {
        ok: false,
        message:
          `Permission denied: this agent does not answer to the host name "${shown}" ` +
          `(if operators reach it under that name, add it to http.allowedHosts)`,
      };
    }
    return { ok: true, host: h.host, port: h.port };
  }
}

/**
 * True when a browser's Origin header names another origin than the (already validated) Host the
 * request was sent to: such a page must not drive the agent through the operator's browser.
 */
export function isCrossOrigin(origin: string | undefined, host: { host: string; port: number | null }): boolean {
  if (origin === undefined) return false;
  if (origin === "null") return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return true;
  }
  const oh = hostOfHeader(o.host);
  if (!oh) return true;
  return oh.host !== host.host || oh.port !== host.port;
}
