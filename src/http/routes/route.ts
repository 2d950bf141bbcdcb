// What a route file sees of a request, and how it registers its routes with the server. The server
// runs the guards (Host, token, failed logins, Origin) before any handler and masks every answer,
// so a route file only parses, acts and returns the JSON body.

import type { IncomingMessage, ServerResponse } from "node:http";

export interface RouteCtx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The JSON object body, read and parsed once (bounded by the server's body limit). */
  body(): Promise<Record<string, unknown>>;
}

/** A handler returns the JSON body to send with 200, or `undefined` when it answered by itself. */
export type Handler = (ctx: RouteCtx) => Promise<unknown> | unknown;

/** Registers a route; `auth` (default true) false only for what carries no data (health, page shell). */
export type AddRoute = (path: string, method: "GET" | "POST", handler: Handler, auth?: boolean) => void;
