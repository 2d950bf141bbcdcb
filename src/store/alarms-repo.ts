// The alarms table: columns for what is queried and indexed, `doc` JSON for the rest of the alarm.
// upstream_id / work_order_id are owned by delivery (set by SQL after the platform answered), so
// writes here never touch them and reads merge them back into the Alarm. recurrences /
// last_recurrence / repeating are the silenced repeats of the alarm, written by their own updates.
// The `firings` table (rules with `actions.alarm: false`) has the same columns and uses this class.
// Alarm queries (local API, hooks' ctx.alarms, heartbeat, CLI) read committed alarms straight from
// here: the alarm service writes, it does not serve reads.

import type { AlarmListQuery, AlarmQueries, AlarmSortField } from "../core/ports.js";
import type { Alarm, AlarmStatus } from "../core/types.js";
import type { Db } from "./db.js";

export type AlarmTable = "alarms" | "firings";

interface Row {
  id: string;
  rule_id?: string;
  device_id?: string;
  status: number;
  level: number;
  created: number;
  updated: number;
  resolved_at: number | null;
  upstream_id: string | null;
  work_order_id: string | null;
  recurrences?: number;
  last_recurrence?: number | null;
  suppressed?: string | null;
  doc: string;
}

/** The platform's sortable alarm fields (seed 003: created, level, message, name, period, status, title, type, updated). */
export const SORTABLE_FIELDS: readonly AlarmSortField[] = [
  "created",
  "level",
  "message",
  "name",
  "period",
  "status",
  "title",
  "type",
  "updated",
];

const ORDER_BY: Record<AlarmSortField, string> = {
  created: "created",
  updated: "updated",
  level: "level",
  status: "status",
  message: "json_extract(doc, '$.message')",
  name: "json_extract(doc, '$.name')",
  period: "json_extract(doc, '$.period')",
  title: "json_extract(doc, '$.title')",
  type: "json_extract(doc, '$.type')",
};
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;

/**
 * Columns are authoritative for the fields they hold; `doc` carries the rest of the alarm.
 * A damaged doc still yields an alarm with its columns (the CLI lists it rather than failing).
 */
export function alarmFromRow(r: Row): Alarm {
  let doc: Alarm;
  try {
    doc = JSON.parse(r.doc) as Alarm;
  } catch {
    doc = {} as Alarm;
  }
  doc.id = r.id;
  doc.status = r.status as AlarmStatus;
  doc.level = r.level;
  doc.created = r.created;
  doc.updated = r.updated;
  doc.resolvedAt = r.resolved_at;
  doc.upstreamId = r.upstream_id;
  doc.workOrderId = r.work_order_id;
  doc.recurrences = r.recurrences ?? 0;
  doc.lastRecurrence = r.last_recurrence ?? null;
  if (typeof r.suppressed === "string") doc.suppressed = r.suppressed;
  else delete doc.suppressed;
  if (r.rule_id !== undefined) doc.ruleId = r.rule_id;
  if (r.device_id !== undefined) doc.resource = { ...(doc.resource ?? { product: "" }), id: r.device_id };
  return doc;
}

function toDoc(a: Alarm): string {
  const { upstreamId: _u, workOrderId: _w, recurrences: _r, lastRecurrence: _l, suppressed: _s, ...doc } = a;
  return JSON.stringify(doc);
}

function likeEscape(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The last raise of a (rule, device): where its period counts from, and the record repeats are counted on. */
export interface LastRaise {
  ruleId: string;
  deviceId: string;
  id: string;
  created: number;
}

export class AlarmsRepo implements AlarmQueries {
  readonly #db: Db;
  readonly #t: AlarmTable;
  /** A database the agent has not migrated yet (read-only CLI): no repeat or product columns. */
  readonly #legacy: boolean;
  readonly #cols: string;

  constructor(db: Db, table: AlarmTable = "alarms") {
    this.#db = db;
    this.#t = table;
    const cols = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[];
    this.#legacy = !cols.some((c) => c.name === "recurrences");
    const base =
      "id, rule_id, device_id, status, level, created, updated, resolved_at, upstream_id, work_order_id, doc";
    const withRepeats = this.#legacy ? base : `${base}, recurrences, last_recurrence`;
    // A database from before maintenance (read-only CLI on an agent not upgraded yet) has no `suppressed`.
    this.#cols = cols.some((c) => c.name === "suppressed") ? `${withRepeats}, suppressed` : withRepeats;
  }

  /** Insert or update; call inside the caller's transaction. */
  write(a: Alarm): void {
    this.#db
      .prepare(
        `INSERT INTO ${this.#t} (id, rule_id, device_id, status, level, created, updated, resolved_at, product, suppressed, doc)
         VALUES (@id, @ruleId, @deviceId, @status, @level, @created, @updated, @resolvedAt, @product, @suppressed, @doc)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, level = excluded.level,
           updated = excluded.updated, resolved_at = excluded.resolved_at, product = excluded.product, doc = excluded.doc`,
      )
      .run({
        id: a.id,
        ruleId: a.ruleId,
        deviceId: a.resource.id,
        status: a.status,
        level: a.level,
        created: a.created,
        updated: a.updated,
        resolvedAt: a.resolvedAt,
        product: a.resource.product ?? "",
        // Fixed when the record is created (an update never clears it).
        suppressed: a.suppressed ?? null,
        doc: toDoc(a),
      });
  }

  /** A silenced repeat began (`status` > 0) or ended (0) for the record `id`; begins are counted. */
  repeat(id: string, status: AlarmStatus, at: number): void {
    if (status > 0) {
      this.#db
        .prepare(`UPDATE ${this.#t} SET recurrences = recurrences + 1, last_recurrence = ?, repeating = ? WHERE id = ?`)
        .run(at, status, id);
    } else this.#db.prepare(`UPDATE ${this.#t} SET repeating = 0 WHERE id = ?`).run(id);
  }

  /** The delivery-owned columns as they are now (they may have changed since the alarm was loaded). */
  links(id: string): { upstreamId: string | null; workOrderId: string | null } | undefined {
    const r = this.#db.prepare(`SELECT upstream_id, work_order_id FROM ${this.#t} WHERE id = ?`).get(id) as
      | { upstream_id: string | null; work_order_id: string | null }
      | undefined;
    return r ? { upstreamId: r.upstream_id, workOrderId: r.work_order_id } : undefined;
  }

  get(id: string): Alarm | undefined {
    const r = this.#db.prepare(`SELECT ${this.#cols} FROM ${this.#t} WHERE id = ?`).get(id) as Row | undefined;
    return r ? alarmFromRow(r) : undefined;
  }

  /** Open records (status 1 or 2), oldest first. */
  active(): Alarm[] {
    const rows = this.#db
      .prepare(`SELECT ${this.#cols} FROM ${this.#t} WHERE status > 0 ORDER BY created, id`)
      .all() as Row[];
    return rows.map(alarmFromRow);
  }

  maxId(): string | null {
    return (this.#db.prepare(`SELECT max(id) AS id FROM ${this.#t}`).get() as { id: string | null }).id;
  }

  /** The newest raise of every (rule, device) pair (operator alarms have no rule and are left out). */
  lastRaises(): LastRaise[] {
    return this.#db
      .prepare(
        `SELECT rule_id AS ruleId, device_id AS deviceId, id, max(created) AS created
           FROM ${this.#t} WHERE rule_id <> '' GROUP BY rule_id, device_id`,
      )
      .all() as LastRaise[];
  }

  /** Records whose silenced repeat was going on when the agent stopped. */
  repeating(): { id: string; ruleId: string; deviceId: string; status: AlarmStatus }[] {
    if (this.#legacy) return [];
    return this.#db
      .prepare(
        `SELECT id, rule_id AS ruleId, device_id AS deviceId, repeating AS status FROM ${this.#t} WHERE repeating > 0`,
      )
      .all() as { id: string; ruleId: string; deviceId: string; status: AlarmStatus }[];
  }

  /** Outbox rows about this record still waiting for delivery. */
  pendingDeliveries(id: string): number {
    return (
      this.#db.prepare("SELECT count(*) AS n FROM outbox WHERE alarm_id = ? AND state = 'pending'").get(id) as {
        n: number;
      }
    ).n;
  }

  delete(id: string): boolean {
    return this.#db.prepare(`DELETE FROM ${this.#t} WHERE id = ?`).run(id).changes > 0;
  }

  list(q: AlarmListQuery): { total: number; alarms: Alarm[] } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const status = q.status ?? "all";
    if (status === "active") where.push("status > 0");
    else if (status !== "all") {
      where.push("status = ?");
      params.push(status);
    }
    if (q.did) {
      where.push("device_id = ?");
      params.push(q.did);
    }
    if (q.key) {
      where.push(this.#legacy ? "json_extract(doc, '$.resource.product') = ?" : "product = ?");
      params.push(q.key);
    }
    if (q.q) {
      const like = likeEscape(q.q);
      where.push(
        `(json_extract(doc, '$.name') LIKE ? ESCAPE '\\' OR json_extract(doc, '$.title') LIKE ? ESCAPE '\\'
          OR json_extract(doc, '$.message') LIKE ? ESCAPE '\\')`,
      );
      params.push(like, like, like);
    }
    let order: string;
    const dir = q.order === "desc" ? "DESC" : "ASC";
    if (q.recurringSince !== undefined && !this.#legacy) {
      where.push("recurrences > 0 AND last_recurrence >= ?");
      params.push(q.recurringSince);
      order = "last_recurrence DESC, id DESC";
    } else {
      order = `${ORDER_BY[q.orderBy ?? "created"] ?? "created"} ${dir}, id ${dir}`;
    }
    const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const limit = Math.min(Math.max(0, Math.floor(q.limit ?? LIST_LIMIT_DEFAULT)), LIST_LIMIT_MAX);
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    // Statements differ only by the filters present: a handful of SQL texts, cached by the store.
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM ${this.#t} ${w}`).get(...params) as { n: number }).n;
    const rows = this.#db
      .prepare(`SELECT ${this.#cols} FROM ${this.#t} ${w} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    return { total, alarms: rows.map(alarmFromRow) };
  }
}
