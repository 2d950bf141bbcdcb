// The alarms table: columns for what is queried and indexed, `doc` JSON for the rest of the alarm.
// upstream_id / work_order_id are owned by delivery (set by SQL after the platform answered), so
// writes here never touch them and reads merge them back into the Alarm.

import type { AlarmListQuery } from "../core/ports.js";
import type { Alarm, AlarmStatus } from "../core/types.js";
import type { Db } from "./db.js";

interface Row {
  id: string;
  status: number;
  level: number;
  created: number;
  updated: number;
  resolved_at: number | null;
  upstream_id: string | null;
  work_order_id: string | null;
  doc: string;
}

const COLUMNS = "id, status, level, created, updated, resolved_at, upstream_id, work_order_id, doc";
const ORDER_BY: Record<NonNullable<AlarmListQuery["orderBy"]>, string> = {
  created: "created",
  updated: "updated",
  level: "level",
  status: "status",
};
export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 1000;

/**
 * Columns are authoritative for the fields they hold; `doc` carries the rest of the alarm.
 * A damaged doc still yields an alarm with its columns (the CLI lists it rather than failing).
 */
export function alarmFromRow(r: Row & { rule_id?: string; device_id?: string }): Alarm {
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
  if (r.rule_id !== undefined) doc.ruleId = r.rule_id;
  if (r.device_id !== undefined) doc.resource = { ...(doc.resource ?? { product: "" }), id: r.device_id };
  return doc;
}

function toDoc(a: Alarm): string {
  const { upstreamId: _u, workOrderId: _w, ...doc } = a;
  return JSON.stringify(doc);
}

function likeEscape(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class AlarmsRepo {
  readonly #db: Db;
  readonly #upsert;
  readonly #links;
  readonly #get;
  readonly #open;
  readonly #maxId;

  constructor(db: Db) {
    this.#db = db;
    this.#upsert = db.prepare(
      `INSERT INTO alarms (id, rule_id, device_id, status, level, created, updated, resolved_at, doc)
       VALUES (@id, @ruleId, @deviceId, @status, @level, @created, @updated, @resolvedAt, @doc)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, level = excluded.level,
         updated = excluded.updated, resolved_at = excluded.resolved_at, doc = excluded.doc`,
    );
    this.#links = db.prepare<[string], { upstream_id: string | null; work_order_id: string | null }>(
      "SELECT upstream_id, work_order_id FROM alarms WHERE id = ?",
    );
    this.#get = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM alarms WHERE id = ?`);
    this.#open = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM alarms WHERE status > 0 ORDER BY created, id`);
    this.#maxId = db.prepare<[], { id: string | null }>("SELECT max(id) AS id FROM alarms");
  }

  /** Insert or update; call inside the caller's transaction. */
  write(a: Alarm): void {
    this.#upsert.run({
      id: a.id,
      ruleId: a.ruleId,
      deviceId: a.resource.id,
      status: a.status,
      level: a.level,
      created: a.created,
      updated: a.updated,
      resolvedAt: a.resolvedAt,
      doc: toDoc(a),
    });
  }

  /** The delivery-owned columns as they are now (they may have changed since the alarm was loaded). */
  links(id: string): { upstreamId: string | null; workOrderId: string | null } | undefined {
    const r = this.#links.get(id);
    return r ? { upstreamId: r.upstream_id, workOrderId: r.work_order_id } : undefined;
  }

  get(id: string): Alarm | undefined {
    const r = this.#get.get(id);
    return r ? alarmFromRow(r) : undefined;
  }

  open(): Alarm[] {
    return this.#open.all().map(alarmFromRow);
  }

  maxId(): string | null {
    return this.#maxId.get()?.id ?? null;
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
    if (q.q) {
      const like = likeEscape(q.q);
      where.push(
        `(json_extract(doc, '$.name') LIKE ? ESCAPE '\\' OR json_extract(doc, '$.title') LIKE ? ESCAPE '\\'
          OR json_extract(doc, '$.message') LIKE ? ESCAPE '\\' OR device_id LIKE ? ESCAPE '\\')`,
      );
      params.push(like, like, like, like);
    }
    const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const dir = q.order === "asc" ? "ASC" : "DESC";
    const col = ORDER_BY[q.orderBy ?? "created"] ?? "created";
    const limit = Math.min(Math.max(0, Math.floor(q.limit ?? LIST_LIMIT_DEFAULT)), LIST_LIMIT_MAX);
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM alarms ${w}`).get(...params) as { n: number }).n;
    const rows = this.#db
      .prepare(`SELECT ${COLUMNS} FROM alarms ${w} ORDER BY ${col} ${dir}, id ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Row[];
    return { total, alarms: rows.map(alarmFromRow) };
  }
}
