// The signed work-order API (docs/upstream.md): create and auto-complete requests and what their
// answers mean. The client builds the exact bytes, signs them and reads the answer; the transport
// (the outbox's HTTP sender, with its timeout, shutdown signal and answer classification) is passed
// in, so the client holds no connection and the outbox's retry rules stay in one place.

import type { ResolvedWorkOrdersConfig } from "../config/defaults.js";
import { endpoint } from "../core/url.js";
import type { WorkOrderCreatePayload } from "../store/outbox-payloads.js";
import { completeBody, createBody } from "./body.js";
import { rawId, rawMembers } from "./json-raw.js";
import { signedHeaders } from "./sign.js";

export const CREATE_PATH = "/open-api/ops/security/order/create";
export const COMPLETE_PATH = "/open-api/ops/security/order/auto-complete";

export interface WorkOrderRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one request: the answer text when the platform accepted it (2xx, code 0 or none), otherwise
 * the transport's own failure, which the client passes back untouched.
 */
export type Transport<F> = (req: WorkOrderRequest) => Promise<{ kind: "ok"; text: string } | F>;

/** What an accepted create answer means: the new orderId, or why the item must go again / cannot. */
export type CreateAnswer =
  | { kind: "created"; orderId: string }
  | { kind: "retry"; reason: string }
  | { kind: "dead"; reason: string };

export type CompleteAnswer = { kind: "completed" } | { kind: "retry"; reason: string };

export interface WorkOrderClientOptions<F> {
  config: ResolvedWorkOrdersConfig;
  /** Wall-clock ms for the signature's timestamp. */
  now: () => number;
  transport: Transport<F>;
}

export class WorkOrderClient<F> {
  readonly #o: WorkOrderClientOptions<F>;

  constructor(opts: WorkOrderClientOptions<F>) {
    this.#o = opts;
  }

  async create(payload: WorkOrderCreatePayload): Promise<CreateAnswer | F> {
    const out = await this.#o.transport(this.#request(CREATE_PATH, createBody(payload)));
    return isAccepted(out) ? parseCreateAnswer(out.text) : out;
  }

  /** `orderId` is the exact decimal text (64-bit ids do not survive a JS number). */
  async complete(orderId: string, remark: string): Promise<CompleteAnswer | F> {
    const out = await this.#o.transport(this.#request(COMPLETE_PATH, completeBody(orderId, remark)));
    return isAccepted(out) ? parseCompleteAnswer(out.text) : out;
  }

  /** The body is serialised once: the same string is signed and sent. */
  #request(path: string, body: string): WorkOrderRequest {
    const wo = this.#o.config;
    const headers = signedHeaders({
      appId: wo.appId,
      appSecret: wo.appSecret,
      tenantId: wo.tenantId,
      body,
      nowMs: this.#o.now(),
    });
    return { url: endpoint(wo.baseUrl, path), headers, body };
  }
}

function isAccepted<F>(out: { kind: "ok"; text: string } | F): out is { kind: "ok"; text: string } {
  return (out as { kind?: unknown }).kind === "ok";
}

/**
 * A create answer the transport accepted. A non-zero code was classified as the platform's answer
 * already; what is left without code 0 is not the work-order API talking (a proxy page, a wrong
 * baseUrl): retry. The orderId is `data` itself or `data.orderId` / `data.id`, kept as exact text.
 */
export function parseCreateAnswer(text: string): CreateAnswer {
  const members = rawMembers(text);
  if (members?.get("code") !== "0") {
    return { kind: "retry", reason: `work-order create answered without code 0: ${text.slice(0, 200)}` };
  }
  const orderId = orderIdOf(members.get("data"));
  if (orderId === null) {
    return {
      kind: "dead",
      reason: `work-order create succeeded but returned no integer orderId: ${text.slice(0, 200)}`,
    };
  }
  return { kind: "created", orderId };
}

/** The integer orderId in a create answer's raw `data`, as decimal text, or null. */
export function orderIdOf(data: string | undefined): string | null {
  let orderId = rawId(data);
  if (orderId === null && data?.startsWith("{")) {
    const inner = rawMembers(data);
    orderId = rawId(inner?.get("orderId") ?? inner?.get("id"));
  }
  return orderId !== null && /^\d+$/.test(orderId) ? orderId : null;
}

export function parseCompleteAnswer(text: string): CompleteAnswer {
  if (rawMembers(text)?.get("code") !== "0") {
    return { kind: "retry", reason: `work-order auto-complete answered without code 0: ${text.slice(0, 200)}` };
  }
  return { kind: "completed" };
}
