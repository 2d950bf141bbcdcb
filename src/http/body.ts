// Request bodies: read up to a byte limit, then parse as a JSON object. A body over the limit is
// refused as soon as it passes the limit (the rest is not buffered); malformed JSON is a 400 with
// code 104001, never an exception that reaches the server.

import type { IncomingMessage } from "node:http";
import { CODES, HttpError, invalid } from "./errors.js";

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        // Keep draining (discarding) so the 413 can still be written on this connection.
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, CODES.tooLarge, `Request body too large: the limit is ${limit} bytes`);
}

/** Parses a body that must be a JSON object. */
export function parseJsonObject(buf: Buffer): Record<string, unknown> {
  const text = buf.toString("utf8").trim();
  if (text === "") throw new HttpError(400, CODES.missingParameter, "Miss required parameter: body (a JSON object)");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, CODES.missingParameter, `Malformed JSON body: ${(err as Error).message}`, {
      field: "body",
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("body", "expected a JSON object");
  }
  return value as Record<string, unknown>;
}
