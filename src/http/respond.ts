// Writing JSON answers: one place for the headers every JSON answer carries and for the shape of an
// error body (`{"code": 104001, "message": "…", …extra}`), so routes and the server agree byte for byte.

import type { ServerResponse } from "node:http";
import { redact } from "../core/redact.js";
import type { HttpError } from "./errors.js";

const JSON_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** An error body, masked when secrets are given (a refusal can echo what the client sent). */
export function sendError(res: ServerResponse, err: HttpError, secrets: readonly string[] = []): void {
  const body = { code: err.code, message: err.message, ...err.extra };
  sendJson(res, err.status, secrets.length > 0 ? redact(body, secrets) : body);
}
