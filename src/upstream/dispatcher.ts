// Delivers the outbox (docs/upstream.md): takes the head of each stream (per-alarm order: add before
// updates, work-order create before complete), up to `upstream.concurrency` different streams at
// once over keep-alive connections, and records each outcome in SQLite before the stream's next
// row may go. Outcomes are committed in small batches (one fsync per batch, not per item).
// Who does what: targets.ts decides when a target may be sent to (backoff, probe, pause),
// senders/ turn one row into one request, outcomes.ts records what it led to, group-commit.ts
// batches those records, and the outbox repository holds every query and the bounds.
// A little over 400 lines: one delivery loop (pump, refill, start, commit) whose in-flight sets and
// slot counts must change together; the per-channel slot limit lives in it for that reason.

import { setMaxListeners } from "node:events";
import type { Dispatcher as HttpDispatcher } from "undici";
import type { ResolvedOutboxConfig, ResolvedUpstreamConfig, ResolvedWorkOrdersConfig } from "../config/defaults.js";
import { DEFAULTS } from "../config/defaults.js";
import { configSecrets } from "../config/redact-config.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import { errFields } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { UploadInterceptor } from "../core/ports.js";
import type { Db } from "../store/db.js";
import { type OutboxClass, OutboxRepo, type OutboxRow } from "../store/outbox-repo.js";
import { workOrdersEnabled } from "../store/outbox-writer.js";
import { WorkOrderClient } from "../workorders/client.js";
import { GroupCommit } from "./group-commit.js";
import { post, type SendOutcome } from "./http.js";
import { recordOutcome, reportTargetChange } from "./outcomes.js";
import type { NotifyDeliveryContext, Result, SenderContext, SendFailure } from "./senders/context.js";
import { SENDERS } from "./senders/index.js";
import { CLASS_TARGET, type TargetName, Targets, targetOf } from "./targets.js";

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  events: EventBus;
  http: HttpDispatcher;
  /** The sections as resolveDefaults returns them (config/defaults.ts has a resolver for each). */
  upstream?: ResolvedUpstreamConfig | undefined;
  workOrders?: ResolvedWorkOrdersConfig | undefined;
  outbox: ResolvedOutboxConfig;
  interceptor?: UploadInterceptor | undefined;
  /** Notifications to people (docs/notifications.md); absent: notify rows stay pending. They go
   *  whether or not `upstream` is configured, and whatever the platform's health. */
  notify?: Omit<NotifyDeliveryContext, "repo" | "signal"> | undefined;
  /** Every secret the agent knows (masked in failure reasons); the upstream and work-order
   *  config's own secret-key values are always added. */
  secrets?: readonly string[] | undefined;
  random?: () => number;
  /** Rows fetched per refill of the in-memory queue of heads. */
  batchSize?: number;
  /** Poll interval for retries that fall due (ms). */
  tickMs?: number;
}

const MAINTENANCE_EVERY_MS = 10_000;

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #repo: OutboxRepo;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #concurrency: number;
  /** Requests one notification channel may have in flight at once. */
  readonly #channelSlots: number;
  readonly #batchSize: number;
  readonly #targets: Targets;
  readonly #senders: SenderContext;
  readonly #secrets: string[];
  readonly #queue: OutboxRow[] = [];
  #queuePos = 0;
  readonly #inflightStreams = new Set<string>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #outcomes: GroupCommit<Result>;
  #active = 0;
  #running = false;
  #pumping = false;
  #tick: TimerHandle | undefined;
  #lastMaintenance = Number.NEGATIVE_INFINITY;
  #abort = new AbortController();
  #overWarnedAt = 0;
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
    this.#targets = new Targets(this.#random);
    // Without upstream, only work orders and webhooks are sent: as many at once as upstream's default.
    this.#concurrency = opts.upstream?.concurrency ?? DEFAULTS.upstreamConcurrency;
    this.#channelSlots = Math.max(2, Math.floor(this.#concurrency / 4));
    this.#batchSize = opts.batchSize ?? Math.max(64, this.#concurrency * 8);
    this.#outcomes = new GroupCommit<Result>({
      // at once when half of the requests in flight have finished
      flushAt: Math.max(1, this.#concurrency / 2),
      commit: (batch) => this.#commit(batch),
      committed: () => this.kick(),
    });
    this.#secrets = [
      ...new Set([...(opts.secrets ?? []), ...configSecrets({ upstream: opts.upstream, workOrders: opts.workOrders })]),
    ];
    const wo = opts.workOrders;
    this.#senders = {
      upstream: opts.upstream,
      workOrders: workOrdersEnabled(wo)
        ? new WorkOrderClient<SendFailure>({
            config: wo,
            now: () => opts.clock.now(),
            transport: (req) => this.#send("workorders", req.url, req.headers, req.body),
          })
        : undefined,
      repo: this.#repo,
      log: this.#log,
      intercept: (kind, payload) => this.#intercept(kind, payload),
      send: (target, url, headers, body) => this.#send(target, url, headers, body),
      notify:
        opts.notify === undefined ? undefined : { ...opts.notify, repo: this.#repo, signal: () => this.#abort.signal },
    };
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
      for (const t of this.#targets.all()) pausedGauge.set(t.paused ? 1 : 0, { target: t.name });
    });
  }

  /** Which classes have a configured target; the others stay pending (docs/upstream.md). */
  #configured(cls: OutboxClass): boolean {
    switch (cls) {
      case "alarm":
        return this.#o.upstream !== undefined;
      case "workorder":
        return this.#senders.workOrders !== undefined;
      case "notification":
        return true;
      case "notify":
        return this.#senders.notify !== undefined;
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
      this.#targets.notePauseRecorded(p.target);
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
    this.#outcomes.flushNow();
  }

  /** Operator "retry now": ends every target's backoff so one probe per target goes at once. */
  retryNow(): void {
    this.#targets.clearBackoff();
    this.#repo.makeAllDue();
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
      this.#log.error(errFields(err, "EA_DB"), "outbox dispatcher failed to read the outbox");
    } finally {
      this.#pumping = false;
    }
  }

  #allowedClasses(now: number): OutboxClass[] {
    const out: OutboxClass[] = [];
    for (const cls of ["alarm", "workorder", "notification"] as const) {
      if (this.#configured(cls) && this.#targets.ready(CLASS_TARGET[cls], now)) out.push(cls);
    }
    // Each notification channel is its own target: the class is read, minus the channels backing off.
    if (this.#configured("notify")) out.push("notify");
    return out;
  }

  /** Channels whose target is backing off or probing (their rows are not read until it is ready). */
  #blockedChannels(now: number): string[] {
    const out: string[] = [];
    for (const t of this.#targets.all()) {
      if (t.name.startsWith("notify:") && !this.#targets.ready(t.name, now)) out.push(t.name.slice("notify:".length));
    }
    return out;
  }

  #refill(): void {
    this.#queue.length = 0;
    this.#queuePos = 0;
    const now = this.#o.clock.now();
    const classes = this.#allowedClasses(now);
    if (classes.length === 0) return;
    for (const r of this.#repo.dueHeads(classes, now, this.#batchSize, this.#blockedChannels(now))) {
      if (!this.#inflightStreams.has(r.stream)) this.#queue.push(r);
    }
  }

  #nextRow(): OutboxRow | undefined {
    const now = this.#o.clock.now();
    while (this.#queuePos < this.#queue.length) {
      const row = this.#queue[this.#queuePos++] as OutboxRow;
      if (this.#inflightStreams.has(row.stream)) continue;
      const target = targetOf(row);
      if (!this.#targets.ready(target, now)) continue;
      // A slow channel (an SMTP server that answers after its timeout) holds a few connection slots,
      // never all of them: alarms and the other channels keep theirs.
      if (target.startsWith("notify:") && this.#targets.get(target).inflight >= this.#channelSlots) continue;
      return row;
    }
    return undefined;
  }

  #start(row: OutboxRow): void {
    this.#active++;
    this.#targets.begin(targetOf(row));
    this.#inflightStreams.add(row.stream);
    const p: Promise<void> = SENDERS[row.kind](this.#senders, row)
      .catch((err: unknown): Result => {
        this.#log.error(
          { ...errFields(err), kind: row.kind, seq: row.seq },
          "unexpected error while delivering an outbox item",
        );
        return { row, kind: "retry", reason: "internal error (see the agent log)" };
      })
      .then((result) => {
        this.#inflight.delete(p);
        // The connection slot is free now; the stream stays locked until the outcome is committed.
        this.#onResult(result);
        this.#outcomes.add(result);
        // Refilling from the database waits for the commit; until then use the heads already read.
        this.#pump(false);
      });
    this.#inflight.add(p);
  }

  /** Commits a batch of outcomes, then (only after commit) releases their streams and emits events. */
  #commit(batch: Result[]): void {
    const db = this.#o.db;
    if (!db.open) return;
    const now = this.#o.clock.now();
    try {
      db.transaction(() => {
        for (const r of batch) recordOutcome(this.#repo, this.#targets, r, now, this.#random);
      })();
    } catch (err) {
      // Nothing was recorded: the rows are still pending and go again (at-least-once).
      this.#log.error(
        errFields(err, "EA_DB"),
        "cannot record delivery outcomes in the database; items will be sent again",
      );
    }
    for (const r of batch) this.#after(r);
  }

  /** Target state from an outcome, as soon as it is known (before commit), so new requests see it. */
  #onResult(r: Result): void {
    const name = targetOf(r.row);
    this.#active--;
    if (r.kind === "retry" || r.kind === "pause") this.#m.failures.inc({ kind: r.row.kind, outcome: r.kind });
    reportTargetChange(this.#log, r, this.#targets.finish(name, r, this.#o.clock.now()));
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
    }
    if (r.notification !== undefined) {
      const { message, outcome } = r.notification;
      this.#o.events.emit(outcome.ok ? "notificationSent" : "notificationFailed", message, outcome);
    }
    if (r.kind === "dead") {
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

  #timeoutMs(target: TargetName): number {
    // A target without its section is never sent to; the default bounds stop()'s grace period then.
    if (target === "workorders") return this.#o.workOrders?.timeoutMs ?? DEFAULTS.workOrdersTimeoutMs;
    return this.#o.upstream?.timeoutMs ?? DEFAULTS.upstreamTimeoutMs;
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

  /** Retention and the size bound, every few seconds of dispatcher activity. */
  #maintain(): void {
    const now = this.#o.clock.now();
    if (now - this.#lastMaintenance < MAINTENANCE_EVERY_MS) return;
    this.#lastMaintenance = now;
    const { expired, dropped, overBy, maxPending, retentionDays } = this.#repo.applyLimits(now, this.#o.outbox);
    if (expired > 0) {
      this.#log.error({ expired, retentionDays }, "outbox items undelivered past retention moved to dead-letter");
    }
    if (dropped > 0) {
      this.#m.dropped.inc(undefined, dropped);
      this.#log.warn({ dropped, maxPending }, "outbox full: oldest notification items dropped");
    }
    if (overBy > 0 && now - this.#overWarnedAt > 60_000) {
      this.#overWarnedAt = now;
      this.#log.error(
        { overBy, maxPending },
        "outbox is over its bound with alarm items only: they are kept, never dropped",
      );
    }
    if (expired > 0 || dropped > 0) {
      this.#queue.length = 0;
      this.#queuePos = 0;
    }
  }
}
