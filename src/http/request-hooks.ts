// The local API's side of beforeRequest (docs/http-api.md#hooks-on-requests): what a hook is shown
// of a request (method, path, query, parsed body, client address — never the token or any other
// header) and how a hook's refusal is answered. The server calls this only for authenticated routes
// and only while some hook defines beforeRequest, so without one a request costs nothing more.

import type { IncomingMessage } from "node:http";
import { remoteAddress } from "../core/net.js";
import type { ApiRequest, ApiRequestVerdict } from "../core/ports.js";
import { parseJsonObject } from "./body.js";
import { HttpError } from "./errors.js";

/**
 * The request as a hook sees it. A POST body that is empty or not a JSON object is shown as
 * undefined: the handler refuses it with its own message when it reads it.
 */
export async function apiRequest(
  method: "GET" | "POST",
  url: URL,
  req: IncomingMessage,
  rawBody: () => Promise<Buffer>,
): Promise<ApiRequest> {
  let body: Record<string, unknown> | undefined;
  if (method === "POST") {
    const raw = await rawBody();
    try {
      body = parseJsonObject(raw);
    } catch {
      body = undefined;
    }
  }
  return {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    body,
    remote: remoteAddress(req.socket.remoteAddress),
  };
}

/** A hook's refusal as the error the server answers: `{code, message}`, plus `fields` for InvalidDataInput. */
export function refusalError(v: Extract<ApiRequestVerdict, { ok: false }>): HttpError {
  return new HttpError(v.httpStatus, v.code, v.message, v.fields !== undefined ? { fields: v.fields } : undefined);
}
