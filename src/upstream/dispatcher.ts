// Delivers the outbox (docs/upstream.md): takes the head of each stream (per-alarm order: add before
// updates, work-order create before complete), up to `upstream.concurrency` different streams at
// once over keep-alive connections, and records each outcome in SQLite before the stream's next
// row may go. Outcomes are committed in small batches (one fsync per batch, not per item).
// Per target (upstream, work orders, webhooks): failures back off with jitter and then probe with
// one request; 401/403 pause the target (nothing dropped) until a probe is accepted.

import { setMaxListeners } from "node:events";
import type { Dispatcher as HttpDispatcher } from "undici";
import { DEFAULTS } from "../config/defaults.js";
import { configSecrets } from "../config/redact-config.js";
import type { UpstreamConfig, WorkOrdersConfig } from "../config/schema.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { UploadInterceptor } from "../core/ports.js";
import type { WorkOrder } from "../core/types.js";
import type { Db } from "../store/db.js";
import {
  type OutboxClass,
  type OutboxKind,
  OutboxRepo,
  type OutboxRow,
  type PlatformAnswer,
} from "../store/outbox-repo.js";
import {
  completeBody,
  createBody,
  type WorkOrderCompletePayload,
  type WorkOrderCreatePayload,
} from "../workorders/body.js";
import { rawId, rawMembers } from "../workorders/json-raw.js";
import { signedHeaders } from "../workorders/sign.js";
import { backoffMs } from "./backoff.js";
import { endpoint, post, type SendOutcome } from "./http.js";
import { type AlertUpdatePayload, type WebhookPayload, workOrdersEnabled } from "./outbox-writer.js";

export interface OutboxOptions {
  maxPending?: number | undefined;
  retentionDays?: number | undefined;
}

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  events: EventBus;
  http: HttpDispatcher;
  upstream?: UpstreamConfig | undefined;
  workOrders?: WorkOrdersConfig | undefined;
  outbox?: OutboxOptions | undefined;
  interceptor?: UploadInterceptor | undefined;
  /** Every secret the agent knows (masked in failure reasons); the upstream and work-order
   *  config's own secret-key values are always added. */
  secrets?: readonly string[] | undefined;
  random?: () => number;
  /** Rows fetched per refill of the in-memory queue of heads. */
  batchSize?: number;
  /** Poll interval for retries that fall due (ms). */
  tickMs?: number;
}

type TargetName = "upstream" | "workorders" | "webhook";

const CLASS_TARGET: Readonly<Record<OutboxClass, TargetName>> = {
  alarm: "upstream",
  workorder: "workorders",
  notification: "webhook",
};

interface Target {
  name: TargetName;
  failures: number;
  /** Wall-clock ms before which nothing is sent to this target. */
  blockedUntil: number;
  /** After a failure: one request at a time until one succeeds. */
  probing: boolean;
  inflight: number;
  paused: { since: number; message: string } | null;
}

/** What a finished request means for its row; committed in a batch. */
type Result =
  | { row: OutboxRow; kind: "ok"; upstreamId?: string; orderId?: string; order?: WorkOrder; completed?: WorkOrder }
  | { row: OutboxRow; kind: "skipped"; reason: string }
  | { row: OutboxRow; kind: "dead"; reason: string; answer?: PlatformAnswer }
  | { row: OutboxRow; kind: "retry"; reason: string; afterMs?: number }
  | { row: OutboxRow; kind: "pause"; reason: string }
  | { row: OutboxRow; kind: "aborted" };

export const DEFAULT_CONCURRENCY = 32;
const DEFAULT_MAX_PENDING = 100_000;
const DEFAULT_RETENTION_DAYS = 7;
const MAINTENANCE_EVERY_MS = 10_000;

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #repo: OutboxRepo;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #targets = new Map<TargetName, Target>();
  readonly #secrets: string[];
  readonly #queue: OutboxRow[] = [];
  #queuePos = 0;
  readonly #inflightStreams = new Set<string>();
  readonly #inflight = new Set<Promise<void>>();
  #results: Result[] = [];
  #flushScheduled = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #active = 0;
  #running = false;
  #pumping = false;
  #tick: TimerHandle | undefined;
  #lastMaintenance = Number.NEGATIVE_INFINITY;
  #abort = new AbortController();
  #overWarnedAt = 0;
  /** Targets recorded as paused in the database (by this or a previous run): cleared by the first accepted request. */
  readonly #pauseRecorded = new Set<string>();
  readonly #m: {
    delivered: Counter;
    failures: Counter;
    dead: Counter;
    dropped: Counter;
  };

  constructor(opts: DispatcherOptions) {
    this.#o = opts;
    this.#repo = new OutboxRepo({ db: opts.db });
    this.#log = opts.log;
    this.#random = opts.random ?? Math.random;
    this.#concurrency = opts.upstream?.concurrency ?? DEFAULT_CONCURRENCY;
    this.#batchSize = opts.batchSize ?? Math.max(64, this.#concurrency * 8);
    this.#secrets = [
      ...new Set([...(opts.secrets ?? []), ...configSecrets({ upstream: opts.upstream, workOrders: opts.workOrders })]),
    ];
    for (const name of ["upstream", "workorders", "webhook"] as const) {
      this.#targets.set(name, { name, failures: 0, blockedUntil: 0, probing: false, inflight: 0, paused: null });
    }
    const m = opts.metrics;
    this.#m = {
      delivered: m.counter(
        "edge_outbox_delivered_total",
        "Outbox items delivered (or skipped by beforeUpload), by kind",
      ),
      failures: m.counter("edge_outbox_failures_total", "Failed delivery attempts, by kind and outcome (retry, pause)"),
      dead: m.counter("edge_outbox_dead_letters_total", "Outbox items moved to dead-letter, by kind"),
      dropped: m.counter("edge_outbox_dropped_total", "Notification items dropped because the outbox was full"),
    };
    const pausedGauge = m.gauge("edge_upstream_paused", "1 while a target refuses the credentials (401/403)");
    m.onCollect(() => {
      for (const t of this.#targets.values()) pausedGauge.set(t.paused ? 1 : 0, { target: t.name });
    });
  }

  /** Which classes have a configured target; the others stay pending (see the README, Upstream delivery). */
  #configured(cls: OutboxClass): boolean {
    switch (cls) {
      case "alarm":
        return this.#o.upstream !== undefined;
      case "workorder":
        return workOrdersEnabled(this.#o.workOrders);
      case "notification":
        return true;
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    // one listener per request in flight on the shared shutdown signal
    setMaxListeners(this.#concurrency + 16, this.#abort.signal);
    if (this.#o.upstream === undefined) {
      this.#log.warn("upstream is not configured: alarm items stay pending in the outbox until it is");
    }
    for (const p of this.#repo.pausedTargets()) {
      this.#pauseRecorded.add(p.target);
      this.#log.warn(
        { target: p.target, since: new Date(p.since).toISOString() },
        "delivery was paused before restart; probing again",
      );
    }
    this.#tick = this.#o.clock.setInterval(() => this.kick(), this.#o.tickMs ?? 1000);
    this.kick();
  }

  /** Stops within the request timeout: waits briefly for in-flight requests, then aborts them (their rows stay pending). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#o.clock.clearInterval(this.#tick);
    this.#tick = undefined;
    const graceMs = Math.min(this.#timeoutMs("upstream"), 2000);
    if (this.#inflight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise<void>((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#abort.abort();
    await Promise.allSettled([...this.#inflight]);
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flush();
  }

  /** Operator "retry now": ends every target's backoff so one probe per target goes at once. */
  retryNow(): void {
    for (const t of this.#targets.values()) t.blockedUntil = 0;
    this.#o.db.prepare("UPDATE outbox SET next_at = 0 WHERE state = 'pending' AND next_at > 0").run();
    this.kick();
  }

  /** New rows were committed (or a retry fell due): send what can go now. */
  kick(): void {
    this.#pump(true);
  }

  /** Starts requests up to the concurrency; `mayRefill` false = only from the heads already read. */
  #pump(mayRefill: boolean): void {
    if (!this.#running || this.#pumping) return;
    this.#pumping = true;
    try {
      if (mayRefill) this.#maintain();
      let refilled = !mayRefill;
      while (this.#active < this.#concurrency) {
        const row = this.#nextRow();
        if (row !== undefined) {
          this.#start(row);
          continue;
        }
        if (refilled) break;
        this.#refill();
        refilled = true;
      }
    } catch (err) {
      this.#log.error({ err }, "outbox dispatcher failed to read the outbox");
    } finally {
      this.#pumping = false;
    }
  }

  #allowedClasses(now: number): OutboxClass[] {
    const out: OutboxClass[] = [];
    for (const cls of ["alarm", "workorder", "notification"] as const) {
      if (!this.#configured(cls)) continue;
      const t = this.#targets.get(CLASS_TARGET[cls]) as Target;
      if (t.blockedUntil > now) continue;
      if (t.probing && t.inflight > 0) continue;
      out.push(cls);
    }
    return out;
  }

  #refill(): void {
    this.#queue.length = 0;
    this.#queuePos = 0;
    const now = this.#o.clock.now();
    const classes = this.#allowedClasses(now);
    if (classes.length === 0) return;
    for (const r of this.#repo.dueHeads(classes, now, this.#batchSize)) {
      if (!this.#inflightStreams.has(r.stream)) this.#queue.push(r);
    }
  }

  #nextRow(): OutboxRow | undefined {
    const now = this.#o.clock.now();
    while (this.#queuePos < this.#queue.length) {
      const row = this.#queue[this.#queuePos++] as OutboxRow;
      if (this.#inflightStreams.has(row.stream)) continue;
      const t = this.#targets.get(CLASS_TARGET[row.class]) as Target;
      if (t.blockedUntil > now || (t.probing && t.inflight > 0)) continue;
      return row;
    }
    return undefined;
  }

  #start(row: OutboxRow): void {
    const t = this.#targets.get(CLASS_TARGET[row.class]) as Target;
    this.#active++;
    t.inflight++;
    this.#inflightStreams.add(row.stream);
    const p: Promise<void> = this.#deliver(row)
      .catch((err: unknown): Result => {
        this.#log.error({ err, kind: row.kind, seq: row.seq }, "unexpected error while delivering an outbox item");
        return { row, kind: "retry", reason: "internal error (see the agent log)" };
      })
      .then((result) => {
        this.#inflight.delete(p);
        // The connection slot is free now; the stream stays locked until the outcome is committed.
        this.#onResult(result);
        this.#results.push(result);
        this.#scheduleFlush();
        // Refilling from the database waits for the commit; until then use the heads already read.
        this.#pump(false);
      });
    this.#inflight.add(p);
  }

  /**
   * Group commit: an outcome is recorded together with the others that complete within ~1 ms
   * (or at once when half of the requests in flight have finished), so a draining backlog pays one
   * fsync per batch instead of one per item. Real timers on purpose: this batches I/O, it is not a
   * delay the protocol depends on.
   */
  #scheduleFlush(): void {
    if (this.#results.length >= Math.max(1, this.#concurrency / 2)) {
      if (this.#flushTimer !== undefined) {
        clearTimeout(this.#flushTimer);
        this.#flushTimer = undefined;
      }
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
        this.kick();
      });
      return;
    }
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      if (this.#flushScheduled) return;
      this.#flush();
      this.kick();
    }, 1);
  }

  /** Commits a batch of outcomes, then (only after commit) releases their streams and emits events. */
  #flush(): void {
    if (this.#results.length === 0) return;
    const batch = this.#results;
    this.#results = [];
    const db = this.#o.db;
    if (!db.open) return;
    const now = this.#o.clock.now();
    try {
      db.transaction(() => {
        for (const r of batch) this.#apply(r, now);
      })();
    } catch (err) {
      // Nothing was recorded: the rows are still pending and go again (at-least-once).
      this.#log.error({ err }, "cannot record delivery outcomes in the database; items will be sent again");
    }
    for (const r of batch) this.#after(r);
  }

  #apply(r: Result, now: number): void {
    const row = r.row;
    switch (r.kind) {
      case "ok":
        this.#repo.markDelivered(row.seq, now);
        if (r.upstreamId !== undefined && row.alarm_id) this.#repo.setUpstreamId(row.alarm_id, r.upstreamId);
        if (r.orderId !== undefined && row.alarm_id) this.#repo.setWorkOrderId(row.alarm_id, r.orderId);
        if (this.#pauseRecorded.has(CLASS_TARGET[row.class])) {
          this.#repo.setPaused(null, CLASS_TARGET[row.class]);
          this.#pauseRecorded.delete(CLASS_TARGET[row.class]);
        }
        return;
      case "skipped":
        this.#repo.markSkipped(row.seq, now, r.reason);
        return;
      case "dead":
        this.#repo.markDead(row.seq, now, r.reason, r.answer);
        this.#repo.setLastError(row.kind, now, r.reason);
        return;
      case "retry": {
        const itemDelay = r.afterMs ?? backoffMs(row.attempts + 1, this.#random);
        this.#repo.markRetry(row.seq, now + itemDelay, r.reason);
        this.#repo.setLastError(row.kind, now, r.reason);
        return;
      }
      case "pause": {
        const target = CLASS_TARGET[row.class];
        this.#repo.setLastError(row.kind, now, r.reason);
        this.#repo.setPaused({ target, since: now, message: r.reason }, target);
        this.#pauseRecorded.add(target);
        return;
      }
      case "aborted":
        return;
    }
  }

  /** Target state from an outcome, as soon as it is known (before commit), so new requests see it. */
  #onResult(r: Result): void {
    const row = r.row;
    const t = this.#targets.get(CLASS_TARGET[row.class]) as Target;
    const now = this.#o.clock.now();
    this.#active--;
    t.inflight--;
    switch (r.kind) {
      case "ok":
      case "dead": // the server answered: the target itself works
        this.#recovered(t);
        return;
      case "retry": {
        this.#m.failures.inc({ kind: row.kind, outcome: "retry" });
        t.probing = true;
        // Requests that were already in flight when the target failed count as one failure.
        if (t.blockedUntil > now) return;
        t.failures++;
        const delay = r.afterMs ?? backoffMs(t.failures, this.#random);
        t.blockedUntil = now + delay;
        this.#log.warn(
          {
            target: t.name,
            kind: row.kind,
            alarmId: row.alarm_id,
            failures: t.failures,
            retryInMs: delay,
            reason: r.reason,
          },
          "delivery failed; will retry",
        );
        return;
      }
      case "pause": {
        this.#m.failures.inc({ kind: row.kind, outcome: "pause" });
        t.probing = true;
        const first = t.paused === null;
        if (first) t.paused = { since: now, message: r.reason };
        if (t.blockedUntil > now) return;
        t.failures++;
        const delay = backoffMs(t.failures, this.#random);
        t.blockedUntil = now + delay;
        if (first) {
          this.#log.error(
            { target: t.name, kind: row.kind, reason: r.reason },
            `DELIVERY PAUSED: ${t.name} refused the credentials; nothing is dropped, items wait until a retry is accepted`,
          );
        } else {
          this.#log.warn(
            { target: t.name, retryInMs: delay, reason: r.reason },
            "delivery still paused: credentials refused",
          );
        }
        return;
      }
      case "skipped":
      case "aborted":
        return;
    }
  }

  /** After commit: release the stream, count, and tell the rest of the agent. */
  #after(r: Result): void {
    const row = r.row;
    this.#inflightStreams.delete(row.stream);
    const labels = { kind: row.kind };
    if (r.kind === "ok" || r.kind === "skipped") {
      this.#m.delivered.inc(labels);
      if (r.kind === "ok" && r.order) this.#o.events.emit("workOrderCreated", r.order);
      if (r.kind === "ok" && r.completed) this.#o.events.emit("workOrderCompleted", r.completed);
    } else if (r.kind === "dead") {
      this.#m.dead.inc(labels);
      this.#log.error(
        {
          kind: row.kind,
          seq: row.seq,
          alarmId: row.alarm_id,
          reason: r.reason,
          ...(r.answer ? { answer: r.answer } : {}),
        },
        `outbox item moved to dead-letter; after fixing the cause, re-queue it with: edge-agent outbox retry ${row.seq}`,
      );
    }
  }

  #recovered(t: Target): void {
    if (t.paused) this.#log.warn({ target: t.name }, "delivery resumed: credentials accepted again");
    else if (t.failures > 0) this.#log.info({ target: t.name, failures: t.failures }, "delivery resumed");
    t.paused = null;
    t.failures = 0;
    t.probing = false;
    t.blockedUntil = 0;
  }

  #timeoutMs(target: TargetName): number {
    if (target === "workorders") return this.#o.workOrders?.timeoutMs ?? 10_000;
    return this.#o.upstream?.timeoutMs ?? 10_000;
  }

  async #intercept(kind: string, payload: unknown): Promise<unknown | null> {
    const ic = this.#o.interceptor;
    if (!ic?.active) return payload;
    try {
      return await ic.beforeUpload(kind, payload);
    } catch (err) {
      this.#log.error({ err, kind }, "beforeUpload failed; sending the original payload");
      return payload;
    }
  }

  async #deliver(row: OutboxRow): Promise<Result> {
    switch (row.kind as OutboxKind) {
      case "alert.add":
        return this.#alertAdd(row);
      case "alert.update":
        return this.#alertUpdate(row);
      case "workorder.create":
        return this.#workOrderCreate(row);
      case "workorder.complete":
        return this.#workOrderComplete(row);
      case "webhook":
        return this.#webhook(row);
    }
  }

  #upstreamHeaders(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { "Content-Type": "application/json", ...extra };
    const token = this.#o.upstream?.token;
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  #send(target: TargetName, url: URL, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    return post({
      http: this.#o.http,
      clock: this.#o.clock,
      url,
      headers,
      body,
      timeoutMs: this.#timeoutMs(target),
      signal: this.#abort.signal,
      secrets: this.#secrets,
      codeIsAnswer: target === "workorders",
    });
  }

  /** Maps a non-ok outcome to a row result. */
  #failed(row: OutboxRow, out: Exclude<SendOutcome, { kind: "ok" }>): Result {
    if (out.kind === "aborted") return { row, kind: "aborted" };
    if (out.kind === "retry")
      return out.afterMs !== undefined
        ? { row, kind: "retry", reason: out.reason, afterMs: out.afterMs }
        : { row, kind: "retry", reason: out.reason };
    if (out.kind === "dead" && out.answer !== undefined)
      return { row, kind: "dead", reason: out.reason, answer: out.answer };
    return { row, kind: out.kind, reason: out.reason };
  }

  async #alertAdd(row: OutboxRow): Promise<Result> {
    const upstream = this.#o.upstream as UpstreamConfig;
    const payload = await this.#intercept("alert.add", JSON.parse(row.payload));
    if (payload === null) return { row, kind: "skipped", reason: "skipped by beforeUpload" };
    const alarmId = row.alarm_id ?? "";
    const out = await this.#send(
      "upstream",
      endpoint(upstream.baseUrl, "/alert/add"),
      this.#upstreamHeaders({ "Idempotency-Key": alarmId }),
      JSON.stringify(payload),
    );
    if (out.kind !== "ok") return this.#failed(row, out);
    let upstreamId = rawId(rawMembers(out.text)?.get("id"));
    if (upstreamId === null) {
      this.#log.warn({ alarmId }, "upstream /alert/add answered without an id; using the local alarm id for updates");
      upstreamId = alarmId;
    }
    return { row, kind: "ok", upstreamId };
  }

  async #alertUpdate(row: OutboxRow): Promise<Result> {
    const upstream = this.#o.upstream as UpstreamConfig;
    const alarmId = row.alarm_id ?? "";
    const upstreamId = this.#repo.alarmRefs(alarmId)?.upstreamId ?? null;
    if (upstreamId === null) {
      const add = this.#repo.settled(row.stream, "alert.add");
      if (add?.state === "skipped")
        return { row, kind: "skipped", reason: "the alarm's add was skipped by beforeUpload" };
      return { row, kind: "dead", reason: `no upstream id: the alarm's /alert/add is ${dependencyState(add)}` };
    }
    const logical = JSON.parse(row.payload) as Partial<AlertUpdatePayload>;
    // The platform requires `name` on every update. Rows queued by an older version lack it: take it
    // from the alarm; the local id is the last resort, still better than a certain 104001 refusal.
    const { name: stored, ...changed } = logical;
    const name = stored || this.#repo.alarmName(alarmId) || alarmId;
    const payload = await this.#intercept("alert.update", { id: upstreamId, name, ...changed });
    if (payload === null) return { row, kind: "skipped", reason: "skipped by beforeUpload" };
    const out = await this.#send(
      "upstream",
      endpoint(upstream.baseUrl, "/alert/update"),
      this.#upstreamHeaders({ "Idempotency-Key": `${alarmId}:${row.seq}` }),
      JSON.stringify(payload),
    );
    if (out.kind !== "ok") return this.#failed(row, out);
    return { row, kind: "ok" };
  }

  #signed(body: string): Record<string, string> {
    const wo = this.#o.workOrders as WorkOrdersConfig;
    return signedHeaders({
      appId: wo.appId,
      appSecret: wo.appSecret,
      tenantId: wo.tenantId ?? DEFAULTS.workOrdersTenantId,
      body,
      nowMs: this.#o.clock.now(),
    });
  }

  async #workOrderCreate(row: OutboxRow): Promise<Result> {
    const wo = this.#o.workOrders as WorkOrdersConfig;
    const payload = (await this.#intercept(
      "workorder.create",
      JSON.parse(row.payload),
    )) as WorkOrderCreatePayload | null;
    if (payload === null) return { row, kind: "skipped", reason: "skipped by beforeUpload" };
    const body = createBody(payload);
    const out = await this.#send(
      "workorders",
      endpoint(wo.baseUrl, "/open-api/ops/security/order/create"),
      this.#signed(body),
      body,
    );
    if (out.kind !== "ok") return this.#failed(row, out);
    // A non-zero code was classified as the platform's answer (dead-letter) already; what is left
    // without a code is not the work-order API talking (a proxy page, a wrong baseUrl): retry.
    const members = rawMembers(out.text);
    if (members?.get("code") !== "0") {
      return { row, kind: "retry", reason: `work-order create answered without code 0: ${out.text.slice(0, 200)}` };
    }
    const data = members.get("data");
    let orderId = rawId(data);
    if (orderId === null && data?.startsWith("{")) {
      const inner = rawMembers(data);
      orderId = rawId(inner?.get("orderId") ?? inner?.get("id"));
    }
    if (orderId === null || !/^\d+$/.test(orderId)) {
      return {
        row,
        kind: "dead",
        reason: `work-order create succeeded but returned no integer orderId: ${out.text.slice(0, 200)}`,
      };
    }
    const order: WorkOrder = {
      orderId,
      alarmId: payload.alarmId,
      title: payload.title,
      priority: payload.priority ?? 3,
      ...(payload.areaId !== undefined ? { areaId: payload.areaId } : {}),
      ...(payload.alarmType !== undefined ? { alarmType: payload.alarmType } : {}),
    };
    this.#log.info({ orderId, alarmId: payload.alarmId }, "work order created");
    return { row, kind: "ok", orderId, order };
  }

  async #workOrderComplete(row: OutboxRow): Promise<Result> {
    const wo = this.#o.workOrders as WorkOrdersConfig;
    const alarmId = row.alarm_id ?? "";
    const orderId = this.#repo.alarmRefs(alarmId)?.workOrderId ?? null;
    if (orderId === null) {
      const create = this.#repo.settled(row.stream, "workorder.create");
      if (create?.state === "skipped")
        return { row, kind: "skipped", reason: "the work-order create was skipped by beforeUpload" };
      return { row, kind: "dead", reason: `no orderId: the work-order create is ${dependencyState(create)}` };
    }
    const logical = JSON.parse(row.payload) as WorkOrderCompletePayload;
    const payload = (await this.#intercept("workorder.complete", { orderId, remark: logical.remark })) as {
      orderId: string;
      remark: string;
    } | null;
    if (payload === null) return { row, kind: "skipped", reason: "skipped by beforeUpload" };
    const body = completeBody(String(payload.orderId), String(payload.remark ?? ""));
    const out = await this.#send(
      "workorders",
      endpoint(wo.baseUrl, "/open-api/ops/security/order/auto-complete"),
      this.#signed(body),
      body,
    );
    if (out.kind !== "ok") return this.#failed(row, out);
    if (rawMembers(out.text)?.get("code") !== "0") {
      return {
        row,
        kind: "retry",
        reason: `work-order auto-complete answered without code 0: ${out.text.slice(0, 200)}`,
      };
    }
    let created: Partial<WorkOrderCreatePayload> = {};
    try {
      created = JSON.parse(this.#repo.workOrderCreatePayload(alarmId) ?? "{}") as Partial<WorkOrderCreatePayload>;
    } catch {
      // the create row was purged by retention: the event carries what is known
    }
    const completed: WorkOrder = {
      orderId,
      alarmId,
      title: created.title ?? "",
      priority: created.priority ?? 3,
      remark: payload.remark,
      ...(created.areaId !== undefined ? { areaId: created.areaId } : {}),
      ...(created.alarmType !== undefined ? { alarmType: created.alarmType } : {}),
    };
    this.#log.info({ orderId, alarmId }, "work order auto-completed");
    return { row, kind: "ok", completed };
  }

  async #webhook(row: OutboxRow): Promise<Result> {
    const p = JSON.parse(row.payload) as WebhookPayload;
    const payload = await this.#intercept("webhook", p.alarm);
    if (payload === null) return { row, kind: "skipped", reason: "skipped by beforeUpload" };
    let url: URL;
    try {
      url = new URL(p.url);
    } catch {
      return { row, kind: "dead", reason: `webhook URL is invalid: ${p.url}` };
    }
    // The upstream token is never sent to a webhook: it is another party.
    const out = await this.#send(
      "webhook",
      url,
      { "Content-Type": "application/json", "Idempotency-Key": `${row.alarm_id}:${row.seq}` },
      JSON.stringify(payload),
    );
    if (out.kind !== "ok") return this.#failed(row, out);
    return { row, kind: "ok" };
  }

  /** Retention and the size bound, every few seconds of dispatcher activity. */
  #maintain(): void {
    const now = this.#o.clock.now();
    if (now - this.#lastMaintenance < MAINTENANCE_EVERY_MS) return;
    this.#lastMaintenance = now;
    const retentionMs = (this.#o.outbox?.retentionDays ?? DEFAULT_RETENTION_DAYS) * 86_400_000;
    const { expired } = this.#repo.applyRetention(now, retentionMs);
    if (expired > 0) {
      this.#log.error(
        { expired, retentionDays: retentionMs / 86_400_000 },
        "outbox items undelivered past retention moved to dead-letter",
      );
    }
    const max = this.#o.outbox?.maxPending ?? DEFAULT_MAX_PENDING;
    const { dropped, overBy } = this.#o.db.transaction(() => this.#repo.enforceBound(max, now))();
    if (dropped > 0) {
      this.#m.dropped.inc(undefined, dropped);
      this.#log.warn({ dropped, maxPending: max }, "outbox full: oldest notification items dropped");
    }
    if (overBy > 0 && now - this.#overWarnedAt > 60_000) {
      this.#overWarnedAt = now;
      this.#log.error(
        { overBy, maxPending: max },
        "outbox is over its bound with alarm items only: they are kept, never dropped",
      );
    }
    if (expired > 0 || dropped > 0) {
      this.#queue.length = 0;
      this.#queuePos = 0;
    }
  }
}

/** "dead (why it died)" for a dependent item's reason, so the last dead letter says the root cause. */
function dependencyState(dep: { state: string; error: string | null } | undefined): string {
  if (dep === undefined) return "missing";
  return dep.error ? `${dep.state} (${dep.error})` : dep.state;
}
