// The local HTTP API and status page (docs/http-api.md) on Node's own http server.
// Invariants: every route but /health and the static page shell needs the bearer token; the
// server refuses to start beyond loopback without one; user input never produces a 500; nothing
// it returns or streams contains a secret.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ResolvedHttpConfig } from "../config/defaults.js";
import { AuthFailures } from "../core/auth-failures.js";
import type { Clock } from "../core/clock.js";
import { AgentError, errFields, listenErrorCode, type Problem } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MaintenanceControl } from "../core/maintenance-ports.js";
import type { MetricsRegistry } from "../core/metrics.js";
import { isLoopback, remoteAddress } from "../core/net.js";
import type {
  AlarmOperator,
  AlarmQueries,
  DayStatsQueries,
  DeviceView,
  HookAdmin,
  KpiProvider,
  OutboxStats,
  RequestInterceptor,
  RuleAdmin,
} from "../core/ports.js";
import { redact } from "../core/redact.js";
import { HostCheck, isCrossOrigin, TokenCheck } from "./auth.js";
import { DEFAULT_MAX_BODY_BYTES, parseJsonObject, readBody } from "./body.js";
import { CODES, HttpError } from "./errors.js";
import { apiRequest, refusalError } from "./request-hooks.js";
import { sendError, sendJson } from "./respond.js";
import { alarmRoutes } from "./routes/alarms.js";
import { deviceRoutes } from "./routes/devices.js";
import { hookRoutes } from "./routes/hooks.js";
import { type NotifyRouteDeps, notifyRoutes } from "./routes/notify.js";
import { type RecipientRouteDeps, recipientRoutes } from "./routes/recipients.js";
import type { AddRoute, Handler, RouteCtx } from "./routes/route.js";
import { ruleRoutes } from "./routes/rules.js";
import { statsRoutes } from "./routes/stats.js";
import { systemRoutes } from "./routes/system.js";
import { type TaskRouteDeps, taskRoutes } from "./routes/tasks.js";
import { RuntimeMetrics } from "./runtime-metrics.js";
import { EventStreamHub } from "./sse.js";
import { type HealthReport, statusReport } from "./status.js";

export type { HealthReport };

export interface HttpApiOptions {
  config: ResolvedHttpConfig;
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
  /** Maintenance switched at run time (/device/maintenance). */
  maintenance?: MaintenanceControl | undefined;
  outbox?: OutboxStats | undefined;
  kpis?: KpiProvider | undefined;
  /** Stored daily statistics (/stats/day). */
  stats?: DayStatsQueries | undefined;
  /** Scheduled tasks (/task/*): the task files and the scheduler. */
  tasks?: Omit<TaskRouteDeps, "log"> | undefined;
  /** Recipient groups (/recipient/*) and what /status says of them. */
  recipients?: RecipientRouteDeps["recipients"] | undefined;
  /** Notifications (/notify/test): recipient groups, channels, the test message, hooks' beforeNotify. */
  notify?: Omit<NotifyRouteDeps, "log"> | undefined;
  health: () => HealthReport;
  /** The config with secrets removed (shown on /status). */
  publicConfig: () => unknown;
  /** Extra secret values to mask wherever they would appear (the http token is always masked). */
  secrets?: readonly string[];
  /** Largest accepted request body, bytes (default 256 KiB). */
  maxBodyBytes?: number;
  /** Hooks' beforeRequest: sees every authenticated request after the guards, may refuse it. */
  requestInterceptor?: RequestInterceptor | undefined;
}

interface Route {
  method: "GET" | "POST";
  auth: boolean;
  handler: Handler;
}

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
    return this.#o.config.host;
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
          this.#o.log.error({ ...errFields(err), method: req.method, path: pathOf(req) }, "http handler failed");
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
            listenErrorCode(err),
            `cannot listen on ${host}:${this.#o.config.port}: ${err.message} (is another agent running? change http.port)`,
            { cause: err },
          ),
        );
      };
      server.once("error", onError);
      server.listen(this.#o.config.port, host, () => {
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
    let raw: Promise<Buffer> | null = null;
    const rawBody = () => {
      raw ??= readBody(req, this.#maxBody);
      return raw;
    };
    let bodyPromise: Promise<Record<string, unknown>> | null = null;
    const ctx: RouteCtx = {
      req,
      res,
      url,
      body: () => {
        bodyPromise ??= rawBody().then(parseJsonObject);
        return bodyPromise;
      },
    };
    try {
      // Only past the guards, and only while a hook defines beforeRequest (else no await at all).
      const hooks = this.#o.requestInterceptor;
      if (route.auth && hooks?.active === true) {
        const verdict = await hooks.beforeRequest(await apiRequest(route.method, url, req, rawBody));
        if (!verdict.ok) throw refusalError(verdict);
        if (verdict.body !== undefined) bodyPromise = Promise.resolve(verdict.body);
      }
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

  // ---- routes ---------------------------------------------------------------------------------

  #defineRoutes(): void {
    const o = this.#o;
    const route: AddRoute = (path, method, handler, auth = true) => {
      this.#routes.set(path, { method, auth, handler });
    };
    systemRoutes(route, {
      health: () => o.health(),
      metrics: o.metrics,
      secrets: () => this.#secrets(),
      status: (q) => statusReport(o, q, this.#startedAt),
      events: this.#hub,
    });
    // Alarms and rules in the upstream platform's shapes.
    alarmRoutes(route, { alarms: o.alarms, operator: o.tracker, log: o.log });
    ruleRoutes(route, { rules: o.rules, log: o.log });
    hookRoutes(route, { hooks: o.hooks, log: o.log });
    deviceRoutes(route, { maintenance: o.maintenance, log: o.log });
    statsRoutes(route, { stats: o.stats });
    if (o.tasks) taskRoutes(route, { ...o.tasks, log: o.log });
    if (o.recipients) recipientRoutes(route, { recipients: o.recipients, log: o.log });
    notifyRoutes(route, o.notify ? { ...o.notify, log: o.log } : undefined);
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function pathOf(req: IncomingMessage): string {
  const u = req.url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
}
