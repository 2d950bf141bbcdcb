// Turns alarm changes into outbox rows inside the alarm service's better-sqlite3 transaction
// (docs/upstream.md): prepared statements on the same db, no other I/O, never awaits, so the rows
// commit or roll back together with the alarm. Rows hold the logical payload (outbox-payloads.ts);
// the wire body is built at send time, when the upstream id / orderId it depends on is known.

import type { WorkOrdersConfig } from "../config/schema.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";
import type { NotificationPlanner } from "../core/notify-ports.js";
import type { AlarmChange, AlarmChangeSink } from "../core/ports.js";
import type { Db } from "./db.js";
import {
  type AlertUpdatePayload,
  alertAddPayload,
  alertStream,
  completionRemark,
  createPayloadFor,
  type WebhookPayload,
  webhookStream,
  workOrderStream,
} from "./outbox-payloads.js";
import { OutboxRepo } from "./outbox-repo.js";

/** Work orders are written and sent only with a complete work-order config. */
export function workOrdersEnabled(cfg: WorkOrdersConfig | undefined): cfg is WorkOrdersConfig {
  return cfg !== undefined && cfg.enabled !== false && cfg.baseUrl !== "" && cfg.appSecret !== "";
}

export class OutboxWriter implements AlarmChangeSink {
  readonly #repo: OutboxRepo;
  readonly #workOrders: boolean;
  /** Who is told of each change (docs/notifications.md); absent: no notify rows. */
  #planner: NotificationPlanner | undefined;

  constructor(opts: {
    db: Db;
    clock?: Clock;
    workOrders?: WorkOrdersConfig | undefined;
    log?: Logger;
    planner?: NotificationPlanner | undefined;
  }) {
    this.#repo = new OutboxRepo({ db: opts.db });
    this.#workOrders = workOrdersEnabled(opts.workOrders);
    this.#planner = opts.planner;
  }

  /** Plugs the notification planner in (built after the writer, from the notify config). */
  setPlanner(planner: NotificationPlanner | undefined): void {
    this.#planner = planner;
  }

  /** Called inside the alarm transaction: throws only on a database error, which rolls it back. */
  writeInTransaction(changes: readonly AlarmChange[]): void {
    for (const c of changes) this.#write(c);
  }

  #write(c: AlarmChange): void {
    const a = c.alarm;
    // Kept local (raised during maintenance): no alert, work order or webhook, for its whole life.
    if (a.suppressed !== undefined) return;
    if (this.#planner !== undefined) this.#notify(this.#planner, c);
    const now = c.now;
    // Period OFF: the alarm is the platform's record and is sent; the rule's actions do not run.
    const acts = c.rule !== null && c.rule.off !== true;
    if (c.kind === "created") {
      // A firing (actions.alarm false) is no alarm: only the rule's actions go out.
      if (!c.firing) {
        this.#repo.insert({
          kind: "alert.add",
          stream: alertStream(a.id),
          alarmId: a.id,
          payload: JSON.stringify(alertAddPayload(a)),
          created: now,
        });
      }
      if (acts && this.#workOrders && c.rule?.actions?.workOrder) {
        this.#repo.insert({
          kind: "workorder.create",
          stream: workOrderStream(a.id),
          alarmId: a.id,
          payload: JSON.stringify(createPayloadFor(a, c.rule)),
          created: now,
        });
      }
      if (acts) this.#webhook(c);
      return;
    }
    if (c.firing && c.kind === "updated") return;
    const update: AlertUpdatePayload = {
      name: a.name,
      status: c.kind === "resolved" ? 0 : a.status,
      level: a.level,
      updated: a.updated,
    };
    if (c.previous !== null && c.previous.title !== a.title) update.title = a.title;
    if (c.previous !== null && c.previous.message !== a.message) update.message = a.message;
    if (!c.firing) {
      this.#repo.insert({
        kind: "alert.update",
        stream: alertStream(a.id),
        alarmId: a.id,
        payload: JSON.stringify(update),
        created: now,
      });
    }
    if (c.kind === "resolved") {
      if (a.workOrderId !== null || this.#repo.hasWorkOrderCreate(a.id)) {
        this.#repo.insert({
          kind: "workorder.complete",
          stream: workOrderStream(a.id),
          alarmId: a.id,
          payload: JSON.stringify({ remark: completionRemark(a, c.cause, now) }),
          created: now,
        });
      }
      if (acts && !this.#withinPeriod(c)) this.#webhook(c);
    }
  }

  /**
   * Whether a change happens within the rule's period of its raise. The raise itself is gated by
   * the alarm service (a new episode within the period is a silenced repeat and never gets here);
   * the resolve notification of a raised alarm is the webhook's second call, so within the period
   * it is left out: the rule's webhook runs once per period.
   */
  #withinPeriod(c: AlarmChange): boolean {
    const periodMs = Math.max(0, (c.rule?.period ?? 0) * 1000);
    return periodMs > 0 && c.now - c.alarm.created < periodMs;
  }

  /** The notify rows of a change, inserted at once: the planner of the next change in the batch sees them. */
  #notify(planner: NotificationPlanner, c: AlarmChange): void {
    const plan = planner.plan(c);
    for (const r of plan.dueNow) this.#repo.reschedule(r.seq, c.now, r.payload);
    for (const r of plan.rows) {
      this.#repo.insert({
        kind: "notify",
        stream: r.stream,
        alarmId: r.alarmId,
        payload: r.payload,
        created: c.now,
        nextAt: r.nextAt,
      });
    }
  }

  /** The rule's webhook, on raise and on resolve (see #withinPeriod). */
  #webhook(c: AlarmChange): void {
    const url = c.rule?.actions?.webhook;
    if (!url) return;
    const payload: WebhookPayload = { url, alarm: c.kind === "resolved" ? { ...c.alarm, status: 0 } : c.alarm };
    this.#repo.insert({
      kind: "webhook",
      stream: webhookStream(c.alarm.id),
      alarmId: c.alarm.id,
      payload: JSON.stringify(payload),
      created: c.now,
    });
  }
}
