// Heartbeat (docs/upstream.md): every heartbeatIntervalMs one POST /api/ai/device/heartbeat with the gateway's
// devices, active alarms, outbox depth and the hooks' KPIs. Not queued: a missed heartbeat is replaced
// by the next, and at most one is in flight. The body passes through the beforeUpload hooks (kind
// "heartbeat") like every upstream body: null skips this heartbeat, a failing hook leaves it as it was.

import type { Dispatcher as HttpDispatcher } from "undici";
import type { ResolvedUpstreamConfig } from "../config/defaults.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import { errFields } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type {
  AlarmQueries,
  DeviceView,
  KpiPeriod,
  KpiProvider,
  OutboxStats,
  UploadInterceptor,
} from "../core/ports.js";
import type { DeviceStatus } from "../core/types.js";
import { endpoint } from "../core/url.js";
import { post } from "./http.js";

export interface HeartbeatBody {
  gatewayId: string;
  ts: number;
  version: string;
  uptimeS: number;
  devices: { id: string; status: string; lastSeen: number | null }[];
  activeAlarms: number;
  outbox: { pending: number; oldestPendingAgeS: number; deadLetters: number };
  /** Today's KPIs: the platform's flat `{name: number}` map. */
  kpis: Record<string, number>;
  /** The KPIs of each local period (today repeats `kpis`). */
  kpisByPeriod: Record<KpiPeriod, Record<string, number>>;
}

export interface HeartbeatOptions {
  clock: Clock;
  log: Logger;
  metrics?: MetricsRegistry;
  http: HttpDispatcher;
  upstream: ResolvedUpstreamConfig;
  gatewayId: string;
  version: string;
  devices: DeviceView;
  alarms: AlarmQueries | null;
  outbox: OutboxStats | null;
  /** The hooks' KPIs, asked for today, month and year at every heartbeat: put a cache in front (hooks/kpi-cache.ts). */
  kpis?: KpiProvider | null;
  interceptor?: UploadInterceptor | null;
  /** Epoch ms the agent started (uptime); defaults to when start() ran. */
  startedAt?: number;
}

const KPI_TIMEOUT_MS = 2000;
const KPI_PERIODS: readonly KpiPeriod[] = ["today", "month", "year"];

/**
 * The platform knows online, offline, alarm and maintenance. A device the agent has not heard from
 * since it started (`unknown`) is, for the platform, not online: it is sent as offline, with
 * lastSeen null when it never reported.
 */
export function platformStatus(s: DeviceStatus): Exclude<DeviceStatus, "unknown"> {
  return s === "unknown" ? "offline" : s;
}

export class Heartbeat {
  readonly #o: HeartbeatOptions;
  #timer: TimerHandle | undefined;
  #inflight: Promise<void> | null = null;
  #abort = new AbortController();
  #startedAt = 0;
  #failing = false;
  readonly #sent: Counter | undefined;

  constructor(opts: HeartbeatOptions) {
    this.#o = opts;
    this.#sent = opts.metrics?.counter("edge_heartbeats_total", "Heartbeats sent, by result (ok, failed, skipped)");
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#startedAt = this.#o.startedAt ?? this.#o.clock.now();
    this.#abort = new AbortController();
    this.#timer = this.#o.clock.setInterval(() => this.beat(), this.#o.upstream.heartbeatIntervalMs);
    this.beat();
  }

  async stop(): Promise<void> {
    this.#o.clock.clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#inflight;
  }

  /** Sends one heartbeat now unless one is still in flight (it is then skipped, not queued). */
  beat(): void {
    if (this.#inflight !== null) {
      this.#sent?.inc({ result: "skipped" });
      return;
    }
    this.#inflight = this.#send()
      .catch((err: unknown) => this.#o.log.error(errFields(err), "heartbeat failed unexpectedly"))
      .finally(() => {
        this.#inflight = null;
      });
  }

  /** Waits for the heartbeat in flight, if any (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#inflight;
  }

  async body(): Promise<HeartbeatBody> {
    const now = this.#o.clock.now();
    const s = this.#o.outbox?.summary(now);
    const [today, month, year] = await Promise.all(KPI_PERIODS.map((p) => this.#kpis(p)));
    const kpisByPeriod = { today: today ?? {}, month: month ?? {}, year: year ?? {} };
    return {
      gatewayId: this.#o.gatewayId,
      ts: now,
      version: this.#o.version,
      uptimeS: Math.max(0, Math.floor((now - this.#startedAt) / 1000)),
      devices: this.#o.devices
        .list()
        .map((d) => ({ id: d.id, status: platformStatus(d.status), lastSeen: d.lastSeen })),
      activeAlarms: this.#o.alarms ? countSent(this.#o.alarms.active()) : 0,
      outbox: {
        pending: s?.pending ?? 0,
        oldestPendingAgeS: s?.oldestPendingAgeS ?? 0,
        deadLetters: s?.deadLetters ?? 0,
      },
      kpis: kpisByPeriod.today,
      kpisByPeriod,
    };
  }

  /** One period's KPIs within KPI_TIMEOUT_MS; `{}` when they fail or are late. */
  async #kpis(period: KpiPeriod): Promise<Record<string, number>> {
    const src = this.#o.kpis;
    if (!src) return {};
    let timer: TimerHandle | undefined;
    try {
      return await Promise.race([
        src.kpis(period),
        new Promise<Record<string, number>>((resolve) => {
          timer = this.#o.clock.setTimeout(() => resolve({}), KPI_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.#o.log.warn({ err, period }, "kpis failed; heartbeat sent without them");
      return {};
    } finally {
      this.#o.clock.clearTimeout(timer);
    }
  }

  async #send(): Promise<void> {
    let payload: unknown = await this.body();
    const ic = this.#o.interceptor;
    if (ic?.active) {
      try {
        payload = await ic.beforeUpload("heartbeat", payload);
      } catch (err) {
        this.#o.log.error({ err }, "beforeUpload failed for the heartbeat; sending the original");
      }
      if (payload === null) {
        this.#sent?.inc({ result: "skipped" });
        return;
      }
    }
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    const token = this.#o.upstream.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    const out = await post({
      http: this.#o.http,
      clock: this.#o.clock,
      url: endpoint(this.#o.upstream.baseUrl, "/api/ai/device/heartbeat"),
      headers,
      body: JSON.stringify(payload),
      timeoutMs: this.#o.upstream.timeoutMs,
      signal: this.#abort.signal,
      secrets: token ? [token] : [],
    });
    if (out.kind === "aborted") return;
    if (out.kind === "ok") {
      this.#sent?.inc({ result: "ok" });
      if (this.#failing) this.#o.log.info("heartbeat accepted again");
      this.#failing = false;
      return;
    }
    this.#sent?.inc({ result: "failed" });
    // One line per outage, not one per interval; 401/403 are always loud.
    if (out.kind === "pause") this.#o.log.error({ reason: out.reason }, "heartbeat refused: check upstream.token");
    else if (!this.#failing)
      this.#o.log.warn({ reason: out.reason }, "heartbeat not delivered (the next one replaces it)");
    this.#failing = true;
  }
}

/** Active alarms the platform knows of: one kept local (a device in maintenance) is not counted. */
function countSent(active: readonly { suppressed?: string | null }[]): number {
  let n = 0;
  for (const a of active) if (!a.suppressed) n++;
  return n;
}
