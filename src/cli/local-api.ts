// Commands that act on the running agent (maintenance, notify test) reach it through its local API:
// host and port from the config's http section; the token from EDGE_AGENT_HTTP_TOKEN, else the
// config's http.token (its ${VAR} references taken from this shell's environment). When the config
// does not load in this shell (a secret of another section not set here), http is read alone.

import { readFile } from "node:fs/promises";
import { DEFAULTS, resolvePath } from "../config/defaults.js";
import { loadConfig, parseJsonText } from "../config/load.js";
import { errorMessage } from "../core/errors.js";
import type { CliIO } from "./io.js";

const REQUEST_TIMEOUT_MS = 15_000;

export interface LocalApiTarget {
  base: string;
  token: string;
  /** Why the address may be a guess (the config did not load). */
  note?: string;
  disabled?: boolean;
}

export interface ApiAnswer {
  status: number;
  body: { code?: number; message?: string; data?: unknown };
}

function baseUrl(host: string, port: number): string {
  // A wildcard bind is reached on loopback; an IPv6 literal needs brackets.
  const h =
    host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** Where the agent listens and which token it wants, from the config (best effort when it does not load). */
export async function localApiTarget(file: string, io: CliIO): Promise<LocalApiTarget> {
  const envToken = io.env.EDGE_AGENT_HTTP_TOKEN ?? "";
  const loaded = await loadConfig(file, io.env, { cwd: io.cwd });
  if (loaded.config !== null) {
    const h = loaded.config.http;
    return {
      base: baseUrl(h.host, h.port),
      token: envToken || (h.token ?? ""),
      ...(h.enabled ? {} : { disabled: true }),
    };
  }
  let host: string = DEFAULTS.httpHost;
  let port: number = DEFAULTS.httpPort;
  let token = envToken;
  try {
    const { value } = parseJsonText(await readFile(resolvePath(file, io.cwd), "utf8"), file);
    const http = (value as { http?: Record<string, unknown> } | null)?.http;
    if (http && typeof http === "object") {
      if (typeof http.host === "string" && !http.host.includes("${")) host = http.host;
      if (typeof http.port === "number") port = http.port;
      if (!token && typeof http.token === "string") {
        const ref = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(http.token);
        token = ref ? (io.env[ref[1] as string] ?? "") : http.token.includes("${") ? "" : http.token;
      }
    }
  } catch {
    // Defaults: the agent's own defaults are what it listens on without a readable config.
  }
  return { base: baseUrl(host, port), token, note: `${file} has problems (see edge-agent validate)` };
}

/** One request to the agent; throws when nothing answers (see unreachableMessage). */
export async function callLocalApi(
  t: LocalApiTarget,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  timeoutMs: number = REQUEST_TIMEOUT_MS,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${t.base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: ApiAnswer["body"] = {};
  try {
    parsed = JSON.parse(text) as ApiAnswer["body"];
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}

/** "the agent is not reachable at …": `command` names the CLI command, `hint` why it needs the running agent. */
export function unreachableMessage(
  command: string,
  err: unknown,
  t: LocalApiTarget,
  file: string,
  hint: string,
): string {
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  const why =
    cause === "ECONNREFUSED"
      ? "connection refused"
      : err instanceof Error && err.name === "TimeoutError"
        ? "no answer"
        : (cause ?? errorMessage(err));
  return (
    `edge-agent ${command}: the agent is not reachable at ${t.base} (${why}). ` +
    `Is it running with ${file}? ${hint}; check http.host / http.port in the config.\n`
  );
}

/** The message for a 401: which token to set. */
export function refusedTokenMessage(command: string, t: LocalApiTarget): string {
  return (
    `edge-agent ${command}: the agent at ${t.base} refused the token: set EDGE_AGENT_HTTP_TOKEN ` +
    "or the variable http.token refers to in this shell\n"
  );
}
