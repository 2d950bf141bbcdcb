// Bearer-token checks for the local API. Tokens are compared in constant time (hash both sides,
// then timingSafeEqual) so response timing tells nothing about how much of a guess was right.

import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

export class TokenCheck {
  readonly #expected: Buffer | null;

  /** An empty or absent token disables authentication (allowed on loopback only, see isLoopbackHost). */
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

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith("127.");
}
