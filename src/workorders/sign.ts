// Work-order API request signing (docs/upstream.md): sign = SHA256hex(queryStr + bodyJson + headerStr + appSecret).
// Pure functions. The body passed here must be the exact bytes that are sent: callers serialise once
// and sign and send the same string.

import { createHash, randomBytes } from "node:crypto";

export interface SignInput {
  appId: string;
  appSecret: string;
  /** Exact request body (compact JSON, UTF-8, non-ASCII not escaped). */
  body: string;
  nonce: string;
  /** Epoch milliseconds, as sent in the `timestamp` header. */
  timestamp: string;
  /** Query parameters; sorted by key and concatenated as `k=v` pairs joined by `&`. */
  query?: Readonly<Record<string, string>>;
}

/** Query parameters sorted by key, `k=v` joined with `&`; empty when there are none. */
export function queryString(query: Readonly<Record<string, string>> | undefined): string {
  if (query === undefined) return "";
  return Object.keys(query)
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join("&");
}

export function headerString(appId: string, nonce: string, timestamp: string): string {
  return `appId=${appId}&nonce=${nonce}&timestamp=${timestamp}`;
}

export function sign(input: SignInput): string {
  const raw = `${queryString(input.query)}${input.body}${headerString(input.appId, input.nonce, input.timestamp)}${input.appSecret}`;
  return createHash("sha256").update(raw, "utf8").digest("hex");
}

/** 16 random hex characters (64 bits from the CSPRNG): never reused in practice. */
export function newNonce(): string {
  return randomBytes(8).toString("hex");
}

export interface SignedHeaders {
  "Content-Type": string;
  "tenant-id": string;
  appId: string;
  nonce: string;
  timestamp: string;
  sign: string;
  [name: string]: string;
}

export function signedHeaders(opts: {
  appId: string;
  appSecret: string;
  tenantId: string;
  body: string;
  nowMs: number;
  nonce?: string;
}): SignedHeaders {
  const nonce = opts.nonce ?? newNonce();
  const timestamp = String(Math.trunc(opts.nowMs));
  return {
    "Content-Type": "application/json",
    "tenant-id": opts.tenantId,
    appId: opts.appId,
    nonce,
    timestamp,
    sign: sign({ appId: opts.appId, appSecret: opts.appSecret, body: opts.body, nonce, timestamp }),
  };
}
