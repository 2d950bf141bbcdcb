// The local HTTP API and status page (docs/http-api.md) on Node's own http server.
// Invariants: every route but /health and the static page shell needs the bearer token; the
// server refuses to start beyond loopback without one; user input never produces a 500; nothing
// it returns or streams contains a secret.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { alarmShape } from "../alarms/shape.js";
import type { HttpConfig } from "../config/schema.js";
import { AuthFailures } from "../core/auth-failures.js";
import type { Clock } from "../core/clock.js";
import { AgentError, type Problem } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import { isLoopback, remoteAddress } from "../core/net.js";
import type {
  AlarmOperator,
  AlarmQueries,
  DeviceView,
  HookAdmin,
  KpiProvider,
  OutboxStats,
  RuleAdmin,
} from "../core/ports.js";
import { maskForms, maskText } from "../core/secrets.js";
import { devicePage, STATUS_DEVICES_DEFAULT, STATUS_DEVICES_MAX } from "../pipeline/device-page.js";
import { HostCheck, isCrossOrigin, TokenCheck } from "./auth.js";
import { DEFAULT_MAX_BODY_BYTES, parseJsonObject, readBody } from "./body.js";
import { CODES, HttpError, invalid, missing, notFound } from "./errors.js";
import { redact } from "./redact.js";
import { alarmRoutes } from "./routes/alarms.js";
import { ruleRoutes } from "./routes/rules.js";
import { RuntimeMetrics } from "./runtime-metrics.js";
import { EventStreamHub } from "./sse.js";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./status-page.js";

export interface HealthReport {
  ok: boolean;
  parts: Record<string, { ok: boolean; detail?: string }>;
}

export interface HttpApiOptions {
  config: HttpConfig;
  gatewayId: string;
  version: string;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  events: EventBus;
  devices: DeviceView;
  alarms: AlarmQueries;
  /** Operator actions on alarms (/alert/add, /alert/update, /alert/del). */
  tracker: AlarmOperator;
  rules: RuleAdmin & { problems(): readonly Problem[] };
  hooks?: HookAdmin | undefined;
  outbox?: OutboxStats | undefined;
  kpis?: KpiProvider | undefined;
  health: () => HealthReport;
  /** The config with secrets removed (shown on /status). */
  publicConfig: () => unknown;
  /** Extra secret values to mask wherever they would appear (the http token is always masked). */
  secrets?: readonly string[];
  /** Largest accepted request body, bytes (default 256 KiB). */
  maxBodyBytes?: number;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body(): Promise<Record<string, unknown>>;
}

/** A handler returns the JSON body to send with 200, or `undefined` when it answered by itself. */
type Handler = (ctx: Ctx) => Promise<unknown> | unknown;

interface Route {
  method: "GET" | "POST";
  auth: boolean;
  handler: Handler;
}

const JSON_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

const PAGE_HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export class HttpApi {
  readonly #o: HttpApiOptions;
  readonly #auth: TokenCheck;
  readonly #hostCheck: HostCheck;
  readonly #failures: AuthFailures;
  readonly #routes = new Map<string, Route>();
  readonly #sockets = new Set<Socket>();
  readonly #runtime: RuntimeMetrics;
  readonly #hub: EventStreamHub;
  readonly #maxBody: number;
  #server: Server | null = null;
  #port = 0;
  #startedAt = 0;

  constructor(opts: HttpApiOptions) {
    this.#o = opts;
    this.#auth = new TokenCheck(opts.config.token);
    this.#hostCheck = new HostCheck({ bindHost: this.host, allowedHosts: opts.config.allowedHosts });
    this.#failures = new AuthFailures({ clock: opts.clock, log: opts.log, what: "local API token" });
    this.#maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#runtime = new RuntimeMetrics({
      metrics: opts.metrics,
      clock: opts.clock,
      alarms: opts.alarms,
      outbox: opts.outbox,
      hooks: opts.hooks,
    });
    this.#hub = new EventStreamHub({
      events: opts.events,
      clock: opts.clock,
      devices: opts.devices,
      secrets: () => this.#secrets(),
    });
    this.#defineRoutes();
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.#port;
  }

  get host(): string {
    return this.#o.config.host ?? "127.0.0.1";
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const host = this.host;
    if (!isLoopback(host) && !this.#auth.required) {
      throw new AgentError(
        "EA_CONFIG_INVALID",
        `http.host "${host}" is reachable from the network but http.token is empty: set http.token ` +
          `(for example "\${API_TOKEN}" with API_TOKEN in the environment) or bind http.host to 127.0.0.1`,
      );
    }
    const requests = this.#o.metrics.counter("edge_http_requests_total", "Local API requests, by route and status");
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      this.#handle(req, res)
        .catch((err: unknown) => {
          this.#o.log.error({ err, method: req.method, path: pathOf(req) }, "http handler failed");
          if (!res.headersSent) sendError(res, new HttpError(500, CODES.internal, "Internal error, see the agent log"));
          else res.destroy();
        })
        .finally(() => {
          requests.inc({
            route: this.#routes.has(pathOf(req)) ? pathOf(req) : "other",
            status: String(res.statusCode),
          });
        });
    });
    server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          new AgentError(
            "EA_CONFIG_INVALID",
            `cannot listen on ${host}:${this.#o.config.port ?? 8080}: ${err.message} (is another agent running? change http.port)`,
            { cause: err },
          ),
        );
      };
      server.once("error", onError);
      server.listen(this.#o.config.port ?? 8080, host, () => {
        server.off("error", onError);
        resolve();
      });
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    this.#startedAt = this.#o.clock.monotonic();
    this.#runtime.start();
    this.#o.log.info(
      { host, port: this.#port, auth: this.#auth.required ? "bearer token" : "none (loopback only)" },
      "local API listening",
    );
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    this.#runtime.stop();
    this.#failures.stop();
    this.#hub.closeAll();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  // ---- dispatch -------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    // First, for every path: a Host this server is not reached under is a DNS-rebinding page.
    const host = this.#hostCheck.check(req.headers.host);
    if (!host.ok) {
      this.#o.log.debug(
        { method: req.method, path: url.pathname, host: req.headers.host },
        "http request refused: Host",
      );
      sendError(res, new HttpError(403, CODES.forbidden, host.message));
      return;
    }
    const route = this.#routes.get(url.pathname);
    this.#o.log.debug({ method: req.method, path: url.pathname }, "http request");
    if (!route) {
      sendError(res, new HttpError(404, CODES.routeNotFound, `No such endpoint: ${req.method} ${url.pathname}`));
      return;
    }
    const method = req.method === "HEAD" && route.method === "GET" ? "GET" : req.method;
    if (method !== route.method) {
      res.setHeader("Allow", route.method);
      sendError(
        res,
        new HttpError(405, CODES.methodNotAllowed, `Method not allowed: use ${route.method} ${url.pathname}`),
      );
      return;
    }
    if (route.auth && !this.#auth.accepts(req.headers.authorization)) {
      // A request without credentials is not a login attempt (the page's first load); a wrong
      // token is: logged (rate-limited) and, when repeated, answered more and more slowly.
      if (req.headers.authorization !== undefined) {
        const wait = this.#failures.fail(remoteAddress(req.socket.remoteAddress), { path: url.pathname });
        if (wait < 0) {
          res.setHeader("Retry-After", "60");
          res.setHeader("Connection", "close");
          sendError(res, new HttpError(429, CODES.unauthorized, "Too many failed logins, retry later"));
          return;
        }
        await this.#failures.hold(wait);
        if (res.destroyed) return;
      }
      res.setHeader("WWW-Authenticate", 'Bearer realm="edge-agent"');
      sendError(res, new HttpError(401, CODES.unauthorized, "Unauthorized"));
      return;
    }
    if (method === "POST" && isCrossOrigin(req.headers.origin, host)) {
      // A web page on another origin must not drive the agent through the operator's browser.
      sendError(
        res,
        new HttpError(403, CODES.forbidden, `Permission denied: cross-origin request from ${req.headers.origin}`),
      );
      return;
    }
    let bodyPromise: Promise<Record<string, unknown>> | null = null;
    const ctx: Ctx = {
      req,
      res,
      url,
      body: () => {
        bodyPromise ??= readBody(req, this.#maxBody).then(parseJsonObject);
        return bodyPromise;
      },
    };
    try {
      const out = await route.handler(ctx);
      // Every answer passes here: a secret pasted into a rule or alarm title, a hook's name or a
      // refusal message is masked for every route at once, not route by route.
      if (out !== undefined && !res.headersSent) sendJson(res, 200, redact(out, this.#secrets()));
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status === 413) res.setHeader("Connection", "close");
        sendError(res, err, this.#secrets());
        return;
      }
      throw err;
    }
  }

  #secrets(): string[] {
    const out = [...(this.#o.secrets ?? [])];
    if (this.#o.config.token) out.push(this.#o.config.token);
    return out;
  }

  #route(path: string, method: "GET" | "POST", handler: Handler, auth = true): void {
    this.#routes.set(path, { method, auth, handler });
  }

  // ---- routes ---------------------------------------------------------------------------------

  #defineRoutes(): void {
    const o = this.#o;
    const page = (type: string, text: string): Handler => {
      const buf = Buffer.from(text, "utf8");
      return ({ res }) => {
        res.writeHead(200, { ...PAGE_HEADERS, "Content-Type": type, "Content-Length": buf.length });
        res.end(buf);
        return undefined;
      };
    };
    // The page shell is static and carries no data and no token, so a browser can open it;
    // all data comes from /status and /events, which need the token (see the README, Local API).
    this.#route("/", "GET", page("text/html; charset=utf-8", PAGE_HTML), false);
    this.#route("/assets/app.js", "GET", page("text/javascript; charset=utf-8", PAGE_JS), false);
    this.#route("/assets/app.css", "GET", page("text/css; charset=utf-8", PAGE_CSS), false);

    this.#route(
      "/health",
      "GET",
      ({ res }) => {
        let h: HealthReport;
        try {
          h = o.health();
        } catch (err) {
          h = { ok: false, parts: { agent: { ok: false, detail: (err as Error).message } } };
        }
        const failing = Object.entries(h.parts)
          .filter(([, p]) => !p.ok)
          .map(([k]) => k);
        sendJson(
          res,
          h.ok ? 200 : 503,
          redact({ ok: h.ok, ...(h.ok ? {} : { failing }), parts: h.parts }, this.#secrets()),
        );
        return undefined;
      },
      false,
    );

    this.#route("/metrics", "GET", ({ res }) => {
      const text = maskText(o.metrics.render(), maskForms(this.#secrets()));
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" });
      res.end(text);
      return undefined;
    });

    this.#route("/status", "GET", async ({ url }) => ({ code: 0, data: await this.#status(url.searchParams) }));

    this.#route("/events", "GET", ({ res }) => {
      this.#hub.add(res);
      return undefined;
    });

    // ---- alarms, in the upstream platform's shapes ----
    alarmRoutes((path, method, handler) => this.#route(path, method, handler), {
      alarms: o.alarms,
      operator: o.tracker,
      log: o.log,
    });

    // ---- rules, in the upstream platform's shapes ----
    ruleRoutes((path, method, handler) => this.#route(path, method, handler), { rules: o.rules, log: o.log });

    // ---- hooks ----
    const hooks = (): HookAdmin => {
      if (!o.hooks) throw new HttpError(404, CODES.notFound, "Hooks are not enabled on this agent (set hooksDir)");
      return o.hooks;
    };
    this.#route("/hooks/list", "GET", () => ({ code: 0, data: { hooks: o.hooks ? o.hooks.list() : [] } }));
    this.#route("/hooks/load", "POST", async (ctx) => {
      const name = stringField(await ctx.body(), "name");
      const r = await hooks().load(name);
      if (!r.ok) throw hookRefusal(r, name);
      o.log.info({ hook: name }, "hook loaded through the local API");
      return { code: 0, data: r.value };
    });
    this.#route("/hooks/unload", "POST", async (ctx) => {
      const name = stringField(await ctx.body(), "name");
      const r = await hooks().unload(name);
      if (!r.ok) throw hookRefusal(r, name);
      o.log.info({ hook: name }, "hook unloaded through the local API");
      return { code: 0, data: r.value };
    });
  }

  /** `devicesOffset` (0) and `devicesLimit` (200, at most 1000) page the devices; `devicesTotal` counts them all. */
  async #status(q: URLSearchParams): Promise<Record<string, unknown>> {
    const o = this.#o;
    const devicesOffset = pageParam(q, "devicesOffset", Number.MAX_SAFE_INTEGER) ?? 0;
    const devicesLimit = pageParam(q, "devicesLimit", STATUS_DEVICES_MAX) ?? STATUS_DEVICES_DEFAULT;
    const now = o.clock.now();
    const active = o.alarms.active();
    let kpis: Record<string, number> = {};
    if (o.kpis) {
      try {
        kpis = await o.kpis.kpis("today");
      } catch (err) {
        o.log.warn({ err }, "kpis for the status page failed");
      }
    }
    let health: HealthReport;
    try {
      health = o.health();
    } catch (err) {
      health = { ok: false, parts: { agent: { ok: false, detail: (err as Error).message } } };
    }
    const rules = o.rules.entries();
    const files = new Map<string, number>();
    for (const r of rules) files.set(r.file, (files.get(r.file) ?? 0) + 1);
    return {
      gateway: {
        id: o.gatewayId,
        version: o.version,
        now,
        uptimeS: Math.round((o.clock.monotonic() - this.#startedAt) / 1000),
      },
      health,
      ...devicePage(o.devices.list(), devicesOffset, devicesLimit),
      alarms: {
        active: active.map(alarmShape),
        activeCount: active.length,
        // Alarms whose rule's period silenced a repeat in the last day (they are resolved, so not above).
        recurring: o.alarms.list({ recurringSince: now - 86_400_000, limit: 20 }).alarms.map(alarmShape),
      },
      outbox: o.outbox ? o.outbox.summary(now) : null,
      hooks: o.hooks ? o.hooks.list() : [],
      rules: {
        count: rules.length,
        files: [...files.entries()].map(([file, count]) => ({ file, rules: count })),
        problems: o.rules.problems(),
      },
      kpis,
      config: o.publicConfig(),
    };
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function pathOf(req: IncomingMessage): string {
  const u = req.url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
}

function pageParam(q: URLSearchParams, name: string, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw invalid(name, `expected an integer 0–${max}, got "${raw}"`);
  return Number(raw);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: HttpError, secrets: readonly string[] = []): void {
  const body = { code: err.code, message: err.message, ...err.extra };
  sendJson(res, err.status, secrets.length > 0 ? redact(body, secrets) : body);
}

function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null || v === "") throw missing(name);
  if (typeof v !== "string") throw invalid(name, `expected a string, got ${Array.isArray(v) ? "array" : typeof v}`);
  return v;
}

function fieldOf(p: Problem): string {
  const f = p.path.replace(/^\$\.?/, "");
  return f === "" ? "body" : f;
}

function hookRefusal(r: { problems: Problem[]; notFound?: boolean }, name: string): HttpError {
  if (r.notFound) return notFound("Hook", name);
  return refusal(r.problems, "hook could not be loaded");
}

function refusal(problems: Problem[], fallback: string): HttpError {
  const errors = problems.filter((p) => p.severity !== "warning");
  const first = errors[0] ?? problems[0];
  if (!first)
    return new HttpError(400, CODES.missingParameter, `Invalid parameter: body (${fallback})`, { field: "body" });
  const field = fieldOf(first);
  const message = /required|missing/i.test(first.message)
    ? `Miss required parameter: ${field}`
    : `Invalid parameter: ${field} (${first.message}${first.hint ? ` — ${first.hint}` : ""})`;
  return new HttpError(400, CODES.missingParameter, message, { field, problems });
}
