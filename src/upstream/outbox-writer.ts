// Turns committed-to-be alarm changes into outbox rows, inside the caller's better-sqlite3
// transaction (SPEC §7): prepared statements on the same db, no other I/O, never awaits, so the
// rows commit or roll back together with the alarm. Rows hold the logical payload; the wire body
// is built at send time, when the upstream id / orderId it depends on is known.

import type { Statement } from "better-sqlite3";
import type { WorkOrdersConfig } from "../config/schema.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";
import type { AlarmChange, AlarmChangeSink } from "../core/ports.js";
import type { Alarm } from "../core/types.js";
import type { Db } from "../store/db.js";
import { OutboxRepo } from "../store/outbox-repo.js";
import { completionRemark, createPayloadFor } from "../workorders/body.js";

/** Logical body of `POST /alert/add` (SPEC §7); also the wire body. */
export interface AlertAddPayload {
  id: string;
  name: string;
  level: number;
  device: Alarm["resource"];
  title: string;
  status: number;
  location: Alarm["location"];
  details: Alarm["details"];
  message: string;
  ruleId: string;
  created: number;
}

/** Logical body of `POST /alert/update`; `id` (the upstream id) is added at send time. */
export interface AlertUpdatePayload {
  status: number;
  level: number;
  updated: number;
}

export interface WebhookPayload {
  url: string;
  alarm: Alarm;
}

export function alertAddPayload(a: Alarm): AlertAddPayload {
  return {
    id: a.id,
    name: a.name,
    level: a.level,
    device: a.resource,
    title: a.title,
    status: a.status,
    location: a.location,
    details: a.details,
    message: a.message,
    ruleId: a.ruleId,
    created: a.created,
  };
}

export function workOrdersEnabled(cfg: WorkOrdersConfig | undefined): cfg is WorkOrdersConfig {
  return cfg !== undefined && cfg.enabled !== false && cfg.baseUrl !== "" && cfg.appSecret !== "";
}

export const alertStream = (alarmId: string) => `a:${alarmId}`;
export const workOrderStream = (alarmId: string) => `w:${alarmId}`;
export const webhookStream = (alarmId: string) => `h:${alarmId}`;

const PERIOD_NS = "webhook.period";

export class OutboxWriter implements AlarmChangeSink {
  readonly #repo: OutboxRepo;
  readonly #db: Db;
  readonly #workOrders: boolean;
  readonly #log: Logger | undefined;
  #periodGet: Statement<unknown[]> | null = null;
  #periodSet: Statement<unknown[]> | null = null;

  constructor(opts: { db: Db; clock?: Clock; workOrders?: WorkOrdersConfig | undefined; log?: Logger }) {
    this.#db = opts.db;
    this.#repo = new OutboxRepo({ db: opts.db });
    this.#workOrders = workOrdersEnabled(opts.workOrders);
    this.#log = opts.log;
  }

  /** Called inside the alarm transaction: throws only on a database error, which rolls it back. */
  writeInTransaction(changes: readonly AlarmChange[]): void {
    for (const c of changes) this.#write(c);
  }

  #write(c: AlarmChange): void {
    const a = c.alarm;
    const now = c.now;
    if (c.kind === "created") {
      this.#repo.insert({
        kind: "alert.add",
        stream: alertStream(a.id),
        alarmId: a.id,
        payload: JSON.stringify(alertAddPayload(a)),
        created: now,
      });
      if (this.#workOrders && c.rule?.actions?.workOrder) {
        this.#repo.insert({
          kind: "workorder.create",
          stream: workOrderStream(a.id),
          alarmId: a.id,
          payload: JSON.stringify(createPayloadFor(a, c.rule)),
          created: now,
        });
      }
      this.#webhook(c);
      return;
    }
    const update: AlertUpdatePayload = {
      status: c.kind === "resolved" ? 0 : a.status,
      level: a.level,
      updated: a.updated,
    };
    this.#repo.insert({
      kind: "alert.update",
      stream: alertStream(a.id),
      alarmId: a.id,
      payload: JSON.stringify(update),
      created: now,
    });
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
      this.#webhook(c);
    }
  }

  /** A rule's webhook fires at most once per (rule, device) per `period` seconds (SPEC §5). */
  #webhook(c: AlarmChange): void {
    const url = c.rule?.actions?.webhook;
    if (!url || !c.rule) return;
    const periodMs = Math.max(0, (c.rule.period ?? 0) * 1000);
    const key = `${c.rule.id}\u0000${c.alarm.resource.id}`;
    if (periodMs > 0) {
      this.#periodGet ??= this.#db.prepare("SELECT value FROM kv WHERE ns = ? AND key = ?");
      const last = this.#periodGet.get(PERIOD_NS, key) as { value: string } | undefined;
      if (last !== undefined && c.now - Number(last.value) < periodMs) {
        this.#log?.debug(
          { rule: c.rule.id, device: c.alarm.resource.id },
          "webhook within the rule's period: not sent",
        );
        return;
      }
    }
    this.#periodSet ??= this.#db.prepare(
      "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
    );
    this.#periodSet.run(PERIOD_NS, key, String(c.now));
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
