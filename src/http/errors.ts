// Error and success bodies of the local API, in the upstream platform's shape:
// `{"code": 100401, "message": "Unauthorized"}`. Handlers throw HttpError; the server turns it into
// a response, so no handler can leak a stack trace or answer 500 for bad user input.

import type { Problem } from "../core/errors.js";

export const CODES = {
  unauthorized: 100401,
  forbidden: 100403,
  routeNotFound: 100404,
  methodNotAllowed: 100405,
  unavailable: 100503,
  internal: 100500,
  missingParameter: 104001,
  notFound: 104004,
  conflict: 104009,
  tooLarge: 104013,
} as const;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function missing(field: string): HttpError {
  return new HttpError(400, CODES.missingParameter, `Miss required parameter: ${field}`, { field });
}

/** A parameter that is present but wrong: same code as missing (the platform has one code for both). */
export function invalid(field: string, why: string): HttpError {
  return new HttpError(400, CODES.missingParameter, `Invalid parameter: ${field} (${why})`, { field });
}

export function notFound(what: string, id: string): HttpError {
  return new HttpError(404, CODES.notFound, `${what} not found: ${id}`, { id });
}

/**
 * A rule or hook the agent refused, as 400 104001 naming the first offending field (every problem
 * travels along: file, JSON path, reason); `fallback` says what was wrong when no problem is listed.
 */
export function problemRefusal(problems: Problem[], fallback: string): HttpError {
  const first = problems.find((p) => p.severity !== "warning") ?? problems[0];
  if (!first)
    return new HttpError(400, CODES.missingParameter, `Invalid parameter: body (${fallback})`, { field: "body" });
  const field = fieldOf(first);
  const message = /required|missing/i.test(first.message)
    ? `Miss required parameter: ${field}`
    : `Invalid parameter: ${field} (${first.message}${first.hint ? ` — ${first.hint}` : ""})`;
  return new HttpError(400, CODES.missingParameter, message, { field, problems });
}

/** A problem's JSON path as a field name: `$.conditions.all[0]` → `conditions.all[0]`, `$` → `body`. */
function fieldOf(p: Problem): string {
  const f = p.path.replace(/^\$\.?/, "");
  return f === "" ? "body" : f;
}
