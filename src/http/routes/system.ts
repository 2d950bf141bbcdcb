// The agent's own endpoints: the status page shell and its assets, /health, /metrics, /status and
// the /events stream. The page shell is static and carries no data and no token, so a browser can
// open it; all data comes from /status and /events, which need the token (docs/http-api.md).

import type { MetricsRegistry } from "../../core/metrics.js";
import { redact } from "../../core/redact.js";
import { maskForms, maskText } from "../../core/secrets.js";
import { sendJson } from "../respond.js";
import type { EventStreamHub } from "../sse.js";
import { type HealthReport, readHealth } from "../status.js";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "../status-page.js";
import type { AddRoute, Handler } from "./route.js";

export interface SystemRouteDeps {
  health(): HealthReport;
  metrics: MetricsRegistry;
  /** Every secret value to mask in what these routes answer outside the server's JSON path. */
  secrets: () => readonly string[];
  status: (q: URLSearchParams) => Promise<Record<string, unknown>>;
  events: EventStreamHub;
}

const PAGE_HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function page(type: string, text: string): Handler {
  const buf = Buffer.from(text, "utf8");
  return ({ res }) => {
    res.writeHead(200, { ...PAGE_HEADERS, "Content-Type": type, "Content-Length": buf.length });
    res.end(buf);
    return undefined;
  };
}

export function systemRoutes(route: AddRoute, o: SystemRouteDeps): void {
  route("/", "GET", page("text/html; charset=utf-8", PAGE_HTML), false);
  route("/assets/app.js", "GET", page("text/javascript; charset=utf-8", PAGE_JS), false);
  route("/assets/app.css", "GET", page("text/css; charset=utf-8", PAGE_CSS), false);

  // Open to probes without a token; 503 names the failing parts so a supervisor can act on them.
  route(
    "/health",
    "GET",
    ({ res }) => {
      const h = readHealth(o);
      const failing = Object.entries(h.parts)
        .filter(([, p]) => !p.ok)
        .map(([k]) => k);
      sendJson(res, h.ok ? 200 : 503, redact({ ok: h.ok, ...(h.ok ? {} : { failing }), parts: h.parts }, o.secrets()));
      return undefined;
    },
    false,
  );

  // Prometheus text, not JSON: masked here, as the server's central redaction covers JSON answers.
  route("/metrics", "GET", ({ res }) => {
    const text = maskText(o.metrics.render(), maskForms(o.secrets()));
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" });
    res.end(text);
    return undefined;
  });

  route("/status", "GET", async ({ url }) => ({ code: 0, data: await o.status(url.searchParams) }));

  route("/events", "GET", ({ res }) => {
    o.events.add(res);
    return undefined;
  });
}
