// Durable outbox rows (docs/upstream.md): every query the writer, the dispatcher and `edge-agent outbox`
// run against the `outbox` table. States: pending → delivered | skipped | dead | dropped. A row is
// only ever removed from `pending`, never inserted before an existing one, so the lowest pending
// seq of a stream stays its head until it is settled: that is what keeps per-alarm order. The one
// exception is an operator's `outbox retry`, which puts a dead letter back as pending (see requeue).
// Over 400 lines: every statement on the outbox table (notification rows included), so that the
// ordering invariant above is checked in one place.

import type { ResolvedOutboxConfig } from "../config/defaults.js";
import type { ChannelCounts, DeadLetterInfo, OutboxStats, OutboxSummary } from "../core/ports.js";
import type { Db } from "./db.js";

export type OutboxKind =
  | "alert.add"
  | "alert.update"
  | "workorder.create"
  | "workorder.complete"
  | "webhook"
  | "notify";
/**
 * Drop class: `notification` (webhook) rows may be dropped when the outbox is full; `notify` rows
 * (messages to people, docs/notifications.md) only when they are test messages; the others never.
 */
export type OutboxClass = "alarm" | "workorder" | "notification" | "notify";
export type OutboxState = "pending" | "delivered" | "skipped" | "dead" | "dropped";

export const KIND_CLASS: Readonly<Record<OutboxKind, OutboxClass>> = {
  "alert.add": "alarm",
  "alert.update": "alarm",
  "workorder.create": "workorder",
  "workorder.complete": "workorder",
  webhook: "notification",
  notify: "notify",
};

export interface OutboxRow {
  seq: number;
  kind: OutboxKind;
  class: OutboxClass;
  stream: string;
  alarm_id: string | null;
  payload: string;
  attempts: number;
  next_at: number;
  created: number;
}

export interface NewOutboxRow {
  kind: OutboxKind;
  stream: string;
  alarmId: string | null;
  payload: string;
  created: number;
  /** Not due before this epoch ms (a notification told only after its group's delay); default now. */
  nextAt?: number;
}

/** A notify row of an alarm, as the planner reads them back (docs/notifications.md). */
export interface NotifyRowInfo {
  seq: number;
  stream: string;
  state: OutboxState;
  next_at: number;
  payload: string;
}

export interface AlarmRefs {
  upstreamId: string | null;
  workOrderId: string | null;
}

export interface PauseState {
  target: string;
  since: number;
  message: string;
}

const KV_NS = "outbox";
/** The platform's answer (code, msg) of a dead-lettered row, keyed by seq: kept beside the row, removed with it. */
const ANSWER_NS = "outbox.answer";

/** A refusal the platform answered with its own code (e.g. a work-order API `code` and `msg`). */
export interface PlatformAnswer {
  code: string;
  msg: string | null;
}

/** Dead-letter reasons that only mean "an earlier item of the same alarm did not go": re-queued with it. */
export const DEPENDENCY_REASONS = ["no upstream id:", "no orderId:"] as const;

/**
 * Bounds of the outbox (the resolved `outbox` section): `maxPending` rows kept at most, beyond it the
 * oldest notification rows are dropped; `retentionDays` a row is kept, after which pending ones go
 * to dead-letter and settled ones are deleted.
 */
export type OutboxLimits = ResolvedOutboxConfig;

export interface LimitsResult {
  /** Pending rows moved to dead-letter by retention. */
  expired: number;
  /** Notification rows dropped by the size bound. */
  dropped: number;
  /** Pending rows over the bound that could not be dropped (alarm and work-order rows never are). */
  overBy: number;
  maxPending: number;
  retentionDays: number;
}

const DAY_MS = 86_400_000;

export interface RequeueResult {
  /** The row re-queued, then the later rows of its stream that had died waiting for it. */
  requeued: { seq: number; kind: OutboxKind; alarmId: string | null }[];
}

export class OutboxRepo implements OutboxStats {
  readonly #db: Db;
  #stmts: ReturnType<typeof prepare> | null = null;

  constructor(opts: { db: Db }) {
    this.#db = opts.db;
  }

  get #s(): ReturnType<typeof prepare> {
    if (this.#stmts === null) this.#stmts = prepare(this.#db);
    return this.#stmts;
  }

  get db(): Db {
    return this.#db;
  }

  insert(row: NewOutboxRow): number {
    const r = this.#s.insert.run(
      row.kind,
      KIND_CLASS[row.kind],
      row.stream,
      row.alarmId,
      row.payload,
      row.nextAt ?? 0,
      row.created,
    );
    return Number(r.lastInsertRowid);
  }

  /**
   * Heads of streams (lowest pending seq) of the given classes that are due, oldest first. Notify
   * rows of the channels in `blockedChannels` (backing off) are left out, so a channel that is down
   * never fills the batch and holds back the others.
   */
  dueHeads(
    classes: readonly OutboxClass[],
    now: number,
    limit: number,
    blockedChannels: readonly string[] = [],
  ): OutboxRow[] {
    // One indexed walk per class (state, class, seq): stops after `limit` rows, no sort of the backlog.
    const out: OutboxRow[] = [];
    for (const cls of classes) {
      const rows =
        cls === "notify" && blockedChannels.length > 0
          ? this.#s.notifyHeads.all(now, JSON.stringify(blockedChannels), limit)
          : this.#s.heads.all(cls, now, limit);
      out.push(...(rows as OutboxRow[]));
    }
    if (classes.length > 1) out.sort((a, b) => a.seq - b.seq);
    return out.length > limit ? out.slice(0, limit) : out;
  }

  /** Earliest next_at of a pending row in the future (for the wake-up timer), or null. */
  nextDueAt(now: number): number | null {
    const r = this.#s.nextDue.get(now) as { at: number | null } | undefined;
    return r?.at ?? null;
  }

  markDelivered(seq: number, now: number): void {
    this.#s.settle.run("delivered", now, null, seq);
  }
  markSkipped(seq: number, now: number, reason: string): void {
    this.#s.settle.run("skipped", now, reason, seq);
  }
  markDead(seq: number, now: number, error: string, answer?: PlatformAnswer): void {
    const r = this.#s.settle.run("dead", now, error, seq);
    if (answer !== undefined && r.changes > 0) this.#s.kvSet.run(ANSWER_NS, String(seq), JSON.stringify(answer));
  }
  markRetry(seq: number, nextAt: number, error: string): void {
    this.#s.retry.run(nextAt, error, seq);
  }
  /** Every pending row waiting for a retry becomes due now (operator "retry now"). */
  makeAllDue(): void {
    this.#s.allDue.run();
  }

  alarmRefs(alarmId: string): AlarmRefs | undefined {
    const r = this.#s.alarmRefs.get(alarmId) as
      | { upstream_id: string | null; work_order_id: string | null }
      | undefined;
    return r ? { upstreamId: r.upstream_id, workOrderId: r.work_order_id } : undefined;
  }
  setUpstreamId(alarmId: string, upstreamId: string): void {
    this.#s.setUpstream.run(upstreamId, upstreamId, alarmId);
  }
  setWorkOrderId(alarmId: string, orderId: string): void {
    if (this.#s.setWorkOrder.run(orderId, orderId, alarmId).changes === 0) {
      this.#s.setFiringWorkOrder.run(orderId, alarmId);
    }
  }

  /** Name of the alarm (for `/alert/update` rows written before they carried it), or undefined. */
  alarmName(alarmId: string): string | undefined {
    const r = this.#s.alarmName.get(alarmId) as { name: unknown } | undefined;
    return typeof r?.name === "string" && r.name !== "" ? r.name : undefined;
  }

  /**
   * Operator retry of a dead letter: back to pending, due now, attempts reset. Later rows of the same
   * stream that died only because this one had not gone are re-queued too; per-stream order by seq
   * still puts this one first. `created` restarts at `now` so retention gives it a full period again.
   * Undefined when `seq` is not a dead letter.
   */
  requeue(seq: number, now: number): RequeueResult | undefined {
    return this.#db.transaction((): RequeueResult | undefined => {
      const row = this.#s.deadRow.get(seq) as
        | { seq: number; kind: OutboxKind; stream: string; alarm_id: string | null }
        | undefined;
      if (row === undefined) return undefined;
      const rows = [row];
      for (const later of this.#s.deadLater.all(row.stream, seq) as (typeof row & { last_error: string | null })[]) {
        if (DEPENDENCY_REASONS.some((p) => later.last_error?.startsWith(p))) rows.push(later);
      }
      for (const r of rows) {
        this.#s.requeue.run(now, r.seq);
        this.#s.kvDel.run(ANSWER_NS, String(r.seq));
      }
      return { requeued: rows.map((r) => ({ seq: r.seq, kind: r.kind, alarmId: r.alarm_id })) };
    })();
  }

  /** Every notify row of an alarm, in order (planner: who was told, inside the alarm's transaction). */
  notifyRows(alarmId: string): NotifyRowInfo[] {
    // Streams of an alarm's notifications share the prefix `n:<alarmId>|`: a range on the stream index.
    const prefix = `n:${alarmId}|`;
    return this.#s.notifyRows.all(prefix, `n:${alarmId}}`) as NotifyRowInfo[];
  }

  /** A pending row becomes due at `nextAt` with a new payload (a principal told at once on escalation). */
  reschedule(seq: number, nextAt: number, payload: string): void {
    this.#s.reschedule.run(nextAt, payload, seq);
  }

  /** State of a row by seq (the recover message asks whether its raise went). */
  rowState(seq: number): OutboxState | undefined {
    return (this.#s.rowState.get(seq) as { state: OutboxState } | undefined)?.state;
  }

  /** Whether a work-order create was ever written for this alarm (any state but dropped). */
  hasWorkOrderCreate(alarmId: string): boolean {
    return this.#s.hasCreate.get(`w:${alarmId}`) !== undefined;
  }
  /** State of the last settled row of a kind in a stream (why a dependent row cannot go). */
  settledState(stream: string, kind: OutboxKind): OutboxState | undefined {
    return this.settled(stream, kind)?.state;
  }
  /** The same, with that row's error (so a dependent dead letter can say why its dependency died). */
  settled(stream: string, kind: OutboxKind): { state: OutboxState; error: string | null } | undefined {
    const r = this.#s.settledState.get(stream, kind) as { state: OutboxState; last_error: string | null } | undefined;
    return r ? { state: r.state, error: r.last_error } : undefined;
  }

  /** Stored payload of the work-order create of an alarm (for the completion event), if still kept. */
  workOrderCreatePayload(alarmId: string): string | undefined {
    const r = this.#s.createPayload.get(`w:${alarmId}`) as { payload: string } | undefined;
    return r?.payload;
  }

  countPending(): number {
    return (this.#s.countPending.get() as { n: number }).n;
  }

  /** Marks the oldest pending notification rows `dropped` until at most `maxPending` are pending. */
  enforceBound(maxPending: number, now: number): { dropped: number; overBy: number } {
    const pending = this.countPending();
    if (pending <= maxPending) return { dropped: 0, overBy: 0 };
    const excess = pending - maxPending;
    const r = this.#s.dropOldest.run(now, "dropped: outbox full (outbox.maxPending)", excess);
    const dropped = r.changes;
    if (dropped > 0) this.#addCounter("dropped", dropped);
    return { dropped, overBy: Math.max(0, excess - dropped) };
  }

  /** Pending rows older than retention go to dead-letter; settled rows older than retention are deleted. */
  applyRetention(now: number, retentionMs: number): { expired: number; deleted: number } {
    const cutoff = now - retentionMs;
    return this.#db.transaction(() => {
      const expired = this.#s.expire.run(
        now,
        `expired: undelivered for more than the retention period`,
        cutoff,
      ).changes;
      const deleted = this.#s.purge.run(cutoff).changes;
      if (deleted > 0) this.#s.purgeAnswers.run(ANSWER_NS);
      return { expired, deleted };
    })();
  }

  /** Retention, then the size bound: what the dispatcher runs every few seconds while it works. */
  applyLimits(now: number, limits: OutboxLimits): LimitsResult {
    const { retentionDays, maxPending } = limits;
    const { expired } = this.applyRetention(now, retentionDays * DAY_MS);
    const { dropped, overBy } = this.#db.transaction(() => this.enforceBound(maxPending, now))();
    return { expired, dropped, overBy, maxPending, retentionDays };
  }

  setLastError(kind: string, at: number, message: string): void {
    this.#s.kvSet.run(KV_NS, `lastError.${kind}`, JSON.stringify({ at, message }));
  }
  setPaused(state: PauseState | null, target: string): void {
    if (state === null) this.#s.kvDel.run(KV_NS, `paused.${target}`);
    else this.#s.kvSet.run(KV_NS, `paused.${target}`, JSON.stringify(state));
  }
  pausedTargets(): PauseState[] {
    const rows = this.#s.kvPrefix.all(KV_NS, "paused.%") as { key: string; value: string }[];
    return rows.map((r) => JSON.parse(r.value) as PauseState);
  }

  #addCounter(name: string, by: number): void {
    const cur = this.#s.kvGet.get(KV_NS, name) as { value: string } | undefined;
    this.#s.kvSet.run(KV_NS, name, String((cur ? Number(cur.value) : 0) + by));
  }

  counts(): Record<OutboxState, number> {
    const out: Record<OutboxState, number> = { pending: 0, delivered: 0, skipped: 0, dead: 0, dropped: 0 };
    for (const r of this.#s.counts.all() as { state: OutboxState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Pending count per kind (status page, CLI). */
  pendingByKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.#s.pendingByKind.all() as { kind: string; n: number }[]) out[r.kind] = r.n;
    return out;
  }

  /** Notifications per channel: waiting, sent, settled without sending (resolved before the delay, vetoed), dead letters. */
  notificationsByChannel(): Record<string, ChannelCounts> {
    const out: Record<string, ChannelCounts> = {};
    for (const r of this.#s.byChannel.all() as { state: string; channel: string | null; n: number }[]) {
      const ch = r.channel ?? "?";
      let c = out[ch];
      if (c === undefined) {
        c = { pending: 0, sent: 0, skipped: 0, failed: 0 };
        out[ch] = c;
      }
      if (r.state === "pending") c.pending += r.n;
      else if (r.state === "delivered") c.sent += r.n;
      else if (r.state === "skipped") c.skipped += r.n;
      else c.failed += r.n;
    }
    // Channels in name order, whatever order the groups came in.
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  summary(now: number): OutboxSummary {
    const c = this.counts();
    const oldest = this.#s.oldestPending.get() as { created: number } | undefined;
    const droppedKv = this.#s.kvGet.get(KV_NS, "dropped") as { value: string } | undefined;
    const lastErrors: OutboxSummary["lastErrors"] = {};
    for (const r of this.#s.kvPrefix.all(KV_NS, "lastError.%") as { key: string; value: string }[]) {
      lastErrors[r.key.slice("lastError.".length)] = JSON.parse(r.value) as { at: number; message: string };
    }
    return {
      pending: c.pending,
      delivered: c.delivered,
      deadLetters: c.dead,
      oldestPendingAgeS: oldest ? Math.max(0, Math.floor((now - oldest.created) / 1000)) : 0,
      dropped: droppedKv ? Number(droppedKv.value) : 0,
      paused: this.pausedTargets().length > 0,
      lastErrors,
      lastDeadLetter: c.dead > 0 ? (this.deadLetters(1)[0] ?? null) : null,
      notifications: this.notificationsByChannel(),
    };
  }

  /** Dead-letter rows, newest first (status page, CLI), with the platform's code and msg when it answered one. */
  deadLetters(limit: number): DeadLetterInfo[] {
    return (
      this.#s.dead.all(limit) as {
        seq: number;
        kind: string;
        alarm_id: string | null;
        last_error: string | null;
        done_at: number;
        answer: string | null;
      }[]
    ).map((r) => {
      const d: DeadLetterInfo = { seq: r.seq, kind: r.kind, alarmId: r.alarm_id, at: r.done_at, error: r.last_error };
      if (r.answer !== null) {
        try {
          const a = JSON.parse(r.answer) as PlatformAnswer;
          d.code = String(a.code);
          if (a.msg !== null && a.msg !== undefined) d.msg = String(a.msg);
        } catch {
          // a damaged answer record: the error text still says it
        }
      }
      return d;
    });
  }
}

function prepare(db: Db) {
  return {
    insert: db.prepare(
      "INSERT INTO outbox (kind, class, stream, alarm_id, payload, state, next_at, created) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
    ),
    notifyHeads: db.prepare(
      `SELECT o.seq, o.kind, o.class, o.stream, o.alarm_id, o.payload, o.attempts, o.next_at, o.created
         FROM outbox o
        WHERE o.state = 'pending' AND o.class = 'notify' AND o.next_at <= ?
          AND json_extract(o.payload, '$.channel') NOT IN (SELECT value FROM json_each(?))
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.stream = o.stream AND p.seq < o.seq)
        ORDER BY o.seq LIMIT ?`,
    ),
    notifyRows: db.prepare(
      "SELECT seq, stream, state, next_at, payload FROM outbox WHERE stream >= ? AND stream < ? AND kind = 'notify' ORDER BY seq",
    ),
    reschedule: db.prepare("UPDATE outbox SET next_at = ?, payload = ? WHERE seq = ? AND state = 'pending'"),
    rowState: db.prepare("SELECT state FROM outbox WHERE seq = ?"),
    heads: db.prepare(
      `SELECT o.seq, o.kind, o.class, o.stream, o.alarm_id, o.payload, o.attempts, o.next_at, o.created
         FROM outbox o
        WHERE o.state = 'pending' AND o.class = ? AND o.next_at <= ?
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.stream = o.stream AND p.seq < o.seq)
        ORDER BY o.seq LIMIT ?`,
    ),
    allDue: db.prepare("UPDATE outbox SET next_at = 0 WHERE state = 'pending' AND next_at > 0"),
    nextDue: db.prepare("SELECT MIN(next_at) AS at FROM outbox WHERE state = 'pending' AND next_at > ?"),
    settle: db.prepare(
      "UPDATE outbox SET state = ?, done_at = ?, last_error = COALESCE(?, last_error) WHERE seq = ? AND state = 'pending'",
    ),
    retry: db.prepare(
      "UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE seq = ? AND state = 'pending'",
    ),
    // Firings (rules with actions.alarm false) carry work orders too, under their own ids.
    alarmRefs: db.prepare(
      `SELECT upstream_id, work_order_id FROM (SELECT id, upstream_id, work_order_id FROM alarms
         UNION ALL SELECT id, upstream_id, work_order_id FROM firings) WHERE id = ? LIMIT 1`,
    ),
    setFiringWorkOrder: db.prepare("UPDATE firings SET work_order_id = ? WHERE id = ?"),
    setUpstream: db.prepare(
      "UPDATE alarms SET upstream_id = ?, doc = CASE WHEN json_valid(doc) THEN json_set(doc, '$.upstreamId', ?) ELSE doc END WHERE id = ?",
    ),
    setWorkOrder: db.prepare(
      "UPDATE alarms SET work_order_id = ?, doc = CASE WHEN json_valid(doc) THEN json_set(doc, '$.workOrderId', ?) ELSE doc END WHERE id = ?",
    ),
    hasCreate: db.prepare(
      "SELECT 1 AS x FROM outbox WHERE stream = ? AND kind = 'workorder.create' AND state <> 'dropped' LIMIT 1",
    ),
    settledState: db.prepare(
      "SELECT state, last_error FROM outbox WHERE stream = ? AND kind = ? AND state <> 'pending' ORDER BY seq DESC LIMIT 1",
    ),
    createPayload: db.prepare(
      "SELECT payload FROM outbox WHERE stream = ? AND kind = 'workorder.create' ORDER BY seq DESC LIMIT 1",
    ),
    countPending: db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'"),
    dropOldest: db.prepare(
      `UPDATE outbox SET state = 'dropped', done_at = ?, last_error = ?
        WHERE seq IN (SELECT seq FROM outbox WHERE state = 'pending'
                        AND (class = 'notification'
                             OR (class = 'notify' AND json_extract(payload, '$.transition') = 'test'))
                      ORDER BY seq LIMIT ?)`,
    ),
    expire: db.prepare(
      "UPDATE outbox SET state = 'dead', done_at = ?, last_error = ? WHERE state = 'pending' AND created < ?",
    ),
    purge: db.prepare("DELETE FROM outbox WHERE state <> 'pending' AND done_at < ?"),
    counts: db.prepare("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"),
    pendingByKind: db.prepare("SELECT kind, COUNT(*) AS n FROM outbox WHERE state = 'pending' GROUP BY kind"),
    byChannel: db.prepare(
      `SELECT state, json_extract(payload, '$.channel') AS channel, COUNT(*) AS n FROM outbox
        WHERE class = 'notify' AND state IN ('pending', 'delivered', 'skipped', 'dead')
        GROUP BY state, channel`,
    ),
    oldestPending: db.prepare("SELECT created FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1"),
    dead: db.prepare(
      `SELECT o.seq, o.kind, o.alarm_id, o.last_error, o.done_at,
              (SELECT value FROM kv WHERE kv.ns = '${ANSWER_NS}' AND kv.key = CAST(o.seq AS TEXT)) AS answer
         FROM outbox o WHERE o.state = 'dead' ORDER BY o.done_at DESC, o.seq DESC LIMIT ?`,
    ),
    deadRow: db.prepare("SELECT seq, kind, stream, alarm_id FROM outbox WHERE seq = ? AND state = 'dead'"),
    deadLater: db.prepare(
      "SELECT seq, kind, stream, alarm_id, last_error FROM outbox WHERE stream = ? AND seq > ? AND state = 'dead' ORDER BY seq",
    ),
    requeue: db.prepare(
      "UPDATE outbox SET state = 'pending', attempts = 0, next_at = 0, done_at = NULL, created = ? WHERE seq = ? AND state = 'dead'",
    ),
    purgeAnswers: db.prepare(
      "DELETE FROM kv WHERE ns = ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = CAST(kv.key AS INTEGER) AND o.state = 'dead')",
    ),
    alarmName: db.prepare(
      "SELECT CASE WHEN json_valid(doc) THEN json_extract(doc, '$.name') END AS name FROM alarms WHERE id = ?",
    ),
    kvGet: db.prepare("SELECT value FROM kv WHERE ns = ? AND key = ?"),
    kvSet: db.prepare(
      "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
    ),
    kvDel: db.prepare("DELETE FROM kv WHERE ns = ? AND key = ?"),
    kvPrefix: db.prepare("SELECT key, value FROM kv WHERE ns = ? AND key LIKE ? ORDER BY key"),
  };
}
