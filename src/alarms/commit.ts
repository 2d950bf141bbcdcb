// What one alarm transaction writes and what is announced once it committed. The alarm and firing
// rows, the silenced repeats and the outbox rows of a batch go into one SQLite transaction (batched,
// retried and isolated by commit-queue.ts); events, metrics, the open-alarm count and the callers'
// promises follow only after the commit, so nothing is announced that a crash could take back.

import type { Clock } from "../core/clock.js";
import { AgentError, errorMessage } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { AlarmChange, AlarmChangeSink } from "../core/ports.js";
import type { Alarm, AlarmStatus } from "../core/types.js";
import type { AlarmsRepo } from "../store/alarms-repo.js";
import type { Db } from "../store/db.js";
import { CommitQueue } from "./commit-queue.js";
import type { OpenAlarms } from "./open-alarms.js";

/** A queued unit of the alarm transaction: an alarm/firing change, or a silenced repeat's begin/end. */
export interface Pending {
  change: AlarmChange | null;
  repeat: { id: string; firing: boolean; status: AlarmStatus; at: number } | null;
  done: ((alarm: Alarm) => void) | undefined;
}

const keyOf = (p: Pending): string => (p.change ? p.change.alarm.id : (p.repeat as { id: string }).id);

export interface AlarmCommitsOptions {
  clock: Clock;
  log: Logger;
  events: EventBus;
  metrics: MetricsRegistry;
  openAlarms: OpenAlarms;
  changeSink: AlarmChangeSink | undefined;
  onOutboxWritten: (() => void) | undefined;
  delayMs: number;
  maxBatch: number;
}

interface Counter {
  inc(by?: number): void;
}

export class AlarmCommits {
  readonly #o: AlarmCommitsOptions;
  readonly #cq: CommitQueue<Pending>;
  readonly #m: {
    created: Counter;
    updated: Counter;
    resolved: Counter;
    repeats: Counter;
    firings: Counter;
    active: { set(v: number): void };
  };

  constructor(opts: AlarmCommitsOptions) {
    this.#o = opts;
    const m = opts.metrics;
    const transitions = m.counter("edge_alarm_transitions_total", "Committed alarm changes, by kind");
    this.#m = {
      created: transitions.bind({ kind: "created" }),
      updated: transitions.bind({ kind: "updated" }),
      resolved: transitions.bind({ kind: "resolved" }),
      repeats: m
        .counter("edge_alarm_repeats_silenced_total", "New episodes silenced by their rule's period (kept local)")
        .bind(),
      firings: m
        .counter("edge_rule_firings_total", "Firings of rules with actions.alarm false (actions without an alarm)")
        .bind(),
      active: m.gauge("edge_alarms_active", "Open alarms (status 1 or 2), committed").bind(),
    };
    this.#cq = new CommitQueue<Pending>({
      clock: opts.clock,
      log: opts.log,
      delayMs: opts.delayMs,
      maxBatch: opts.maxBatch,
      keyOf,
      afterCommit: (batch) => this.#afterCommit(batch),
      metrics: {
        failures: m
          .counter("edge_alarm_commit_failures_total", "Alarm transactions that failed (retried, never dropped)")
          .bind(),
        batches: m.counter("edge_alarm_commits_total", "Alarm transactions committed").bind(),
        pending: m.gauge("edge_alarm_pending_changes", "Alarm changes waiting for their commit").bind(),
      },
    });
  }

  /** Queued units, oldest first (read-only view). */
  get items(): readonly Pending[] {
    return this.#cq.items;
  }

  start(db: Db, repo: AlarmsRepo, firings: AlarmsRepo): void {
    this.#cq.start(alarmTransaction(db, repo, firings, this.#o.changeSink));
  }

  stop(): void {
    this.#cq.stop();
  }

  push(p: Pending): void {
    this.#cq.push(p);
  }

  /** Commits what is queued now; throws (typed) when the transaction failed (what failed is kept). */
  commit(): void {
    const err = this.#cq.commit();
    if (err !== undefined) {
      throw new AgentError("EA_DB", `alarm changes not committed (kept, retrying): ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  /** The open alarms were reloaded from the database. */
  restored(): void {
    this.#m.active.set(this.#o.openAlarms.total);
  }

  #afterCommit(batch: readonly Pending[]): void {
    const events = this.#o.events;
    const open = this.#o.openAlarms;
    let silentOutbox = false;
    for (let i = 0; i < batch.length; i++) {
      const { change: c, repeat, done } = batch[i] as Pending;
      if (c === null) {
        if (repeat && repeat.status > 0) this.#m.repeats.inc();
        continue;
      }
      try {
        if (c.firing) {
          if (c.kind === "created") this.#m.firings.inc();
          silentOutbox = true;
        } else if (c.kind === "created") {
          this.#m.created.inc();
          open.add(c.alarm.resource.id, 1);
          if (c.rule) events.emit("alarmCreated", c.alarm, c.device, c.rule);
        } else if (c.kind === "updated") {
          this.#m.updated.inc();
          events.emit("alarmUpdated", c.alarm, c.device, c.rule);
        } else {
          this.#m.resolved.inc();
          open.add(c.alarm.resource.id, -1);
          events.emit("alarmResolved", c.alarm, c.device);
        }
        if (done) done(c.alarm);
      } catch (err) {
        this.#o.log.error({ err, alarmId: c.alarm.id }, "after-commit notification failed");
      }
    }
    this.#m.active.set(open.total);
    if (silentOutbox) this.#o.onOutboxWritten?.();
  }
}

/** The transaction of one batch: records, repeats, then the outbox rows of the changes. */
function alarmTransaction(
  db: Db,
  repo: AlarmsRepo,
  firings: AlarmsRepo,
  sink: AlarmChangeSink | undefined,
): (batch: readonly Pending[]) => void {
  return db.transaction((batch: readonly Pending[]) => {
    const changes: AlarmChange[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      if (p.repeat !== null) {
        (p.repeat.firing ? firings : repo).repeat(p.repeat.id, p.repeat.status, p.repeat.at);
        continue;
      }
      const c = p.change as AlarmChange;
      const r = c.firing ? firings : repo;
      if (c.kind !== "created") {
        // Delivery may have stored the platform's ids since we loaded the alarm: carry them on.
        const l = r.links(c.alarm.id);
        if (l) {
          c.alarm.upstreamId = l.upstreamId;
          c.alarm.workOrderId = l.workOrderId;
          if (c.previous) {
            c.previous.upstreamId = l.upstreamId;
            c.previous.workOrderId = l.workOrderId;
          }
        }
      }
      r.write(c.alarm);
      changes.push(c);
    }
    if (sink && changes.length > 0) sink.writeInTransaction(changes);
  });
}
