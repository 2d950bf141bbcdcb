// /alert/* of the local API in the platform's shapes: the alarm object (alarmShape), lists as
// {total, offset, limit, alerts}. Operator actions (add, update, del) go through the alarm service,
// so they are committed with their outbox rows and flow upstream like a rule's changes.
// Refusals: 104001 naming the field, 104004 for an unknown id.

import { type AlarmListShape, type AlarmShape, alarmShape } from "../../alarms/shape.js";
import type { Logger } from "../../core/log.js";
import type {
  AlarmListQuery,
  AlarmOperator,
  AlarmQueries,
  AlarmSortField,
  ManualAlarmInput,
} from "../../core/ports.js";
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, SORTABLE_FIELDS } from "../../store/alarms-repo.js";
import { CODES, HttpError, invalid, missing } from "../errors.js";
import { intParam } from "../params.js";
import type { AddRoute } from "./route.js";

export interface AlarmRouteDeps {
  alarms: AlarmQueries;
  operator: AlarmOperator;
  log: Logger;
}

const LEVEL_NAMES: Record<string, number> = { fatal: 5, critical: 4, warning: 3, info: 1 };

export function alarmNotFound(id: string): HttpError {
  return new HttpError(404, CODES.notFound, `No alarm with id ${id}`, { id });
}

function enumParam<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw invalid(name, `expected one of ${allowed.join(", ")}`);
  return raw as T;
}

export interface ParsedAlarmList extends AlarmListQuery {
  offset: number;
  limit: number;
}

/**
 * `offset` (0), `limit` (100, at most 1000), `order` (asc), `orderBy` (a sortable field of the
 * platform's alarm), `q` (text in name, title or message), `did` (device), `key` (product),
 * `status` (0, 1, 2, active, all).
 */
export function parseAlarmList(q: URLSearchParams): ParsedAlarmList {
  const out: ParsedAlarmList = {
    offset: intParam(q, "offset", Number.MAX_SAFE_INTEGER) ?? 0,
    limit: intParam(q, "limit", LIST_LIMIT_MAX) ?? LIST_LIMIT_DEFAULT,
  };
  const order = enumParam(q, "order", ["asc", "desc"] as const);
  if (order) out.order = order;
  const orderBy = enumParam<AlarmSortField>(q, "orderBy", SORTABLE_FIELDS);
  if (orderBy) out.orderBy = orderBy;
  for (const k of ["q", "did", "key"] as const) {
    const v = q.get(k);
    if (v) out[k] = v;
  }
  const status = enumParam(q, "status", ["0", "1", "2", "active", "all"] as const);
  if (status) out.status = status === "active" || status === "all" ? status : (Number(status) as 0 | 1 | 2);
  return out;
}

function str(body: Record<string, unknown>, name: string, required: true): string;
function str(body: Record<string, unknown>, name: string, required?: false): string | undefined;
function str(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || (required && v === "")) {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof v !== "string") throw invalid(name, `expected a string, got ${Array.isArray(v) ? "array" : typeof v}`);
  return v;
}

function level(body: Record<string, unknown>): number | undefined {
  const v = body.level;
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string" && LEVEL_NAMES[v] !== undefined) return LEVEL_NAMES[v];
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 5) return v;
  throw invalid("level", "expected 0–5 or fatal, critical, warning, info");
}

function object(body: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(name, "expected an object");
  return v as Record<string, unknown>;
}

/** The body of /alert/add as the platform defines it, plus `workOrder` (true or the work-order fields). */
export function parseManualAlarm(body: Record<string, unknown>): ManualAlarmInput {
  const input: ManualAlarmInput = { name: str(body, "name", true) };
  const lv = level(body);
  if (lv !== undefined) input.level = lv;
  const title = str(body, "title");
  if (title !== undefined) input.title = title;
  const message = str(body, "message");
  if (message !== undefined) input.message = message;
  if (body.status !== undefined && body.status !== null) {
    if (body.status !== 1 && body.status !== 2) {
      throw invalid("status", "expected 1 (pre-warning) or 2 (alarm) for a new alarm");
    }
    input.status = body.status;
  }
  const device = body.device;
  if (typeof device === "string" && device !== "") input.deviceId = device;
  else if (device !== undefined && device !== null) {
    const d = object(body, "device") as Record<string, unknown>;
    if (typeof d.id !== "string" || d.id === "") throw missing("device.id");
    input.deviceId = d.id;
  }
  if (body.location === null) input.location = null;
  else {
    const loc = object(body, "location");
    if (loc !== undefined) input.location = loc;
  }
  const details = object(body, "details");
  if (details !== undefined) input.details = details;
  if (body.recipient !== undefined) input.recipient = body.recipient;
  const wo = body.workOrder;
  if (wo !== undefined && wo !== null && wo !== false) {
    if (wo !== true && (typeof wo !== "object" || Array.isArray(wo))) {
      throw invalid("workOrder", "expected true or an object with the work-order fields (priority, alarmType…)");
    }
    input.workOrder = wo as true | Record<string, unknown>;
  }
  return input;
}

export function alarmRoutes(add: AddRoute, deps: AlarmRouteDeps): void {
  const { alarms, operator, log } = deps;
  const existing = (id: string) => {
    const a = alarms.get(id);
    if (!a) throw alarmNotFound(id);
    return a;
  };

  add("/alert/list", "GET", ({ url }): AlarmListShape => {
    const q = parseAlarmList(url.searchParams);
    const { total, alarms: rows } = alarms.list(q);
    return { total, offset: q.offset, limit: q.limit, alerts: rows.map(alarmShape) };
  });

  add("/alert/get", "GET", ({ url }): AlarmShape => {
    const id = url.searchParams.get("id");
    if (id === null || id.trim() === "") throw missing("id");
    return alarmShape(existing(id));
  });

  add("/alert/add", "POST", async (ctx): Promise<AlarmShape> => {
    const body = await ctx.body();
    const input = parseManualAlarm(body);
    const by = str(body, "by") ?? "operator";
    const a = await operator.raise(input, by);
    log.info({ alarmId: a.id, by, deviceId: input.deviceId }, "alarm raised by operator");
    return alarmShape(a);
  });

  add("/alert/update", "POST", async (ctx): Promise<AlarmShape> => {
    const body = await ctx.body();
    const id = str(body, "id", true);
    // The platform requires `name` on an update; here the agent knows it, so it is optional.
    str(body, "name");
    const changes: { level?: number; title?: string; message?: string } = {};
    const lv = level(body);
    if (lv !== undefined) changes.level = lv;
    const title = str(body, "title");
    if (title !== undefined) changes.title = title;
    const message = str(body, "message");
    if (message !== undefined) changes.message = message;
    const status = body.status;
    if (status !== undefined && status !== null && status !== 0) {
      throw invalid("status", "only 0 (resolve) can be set by an operator; a rule sets 1 and 2");
    }
    const resolve = status === 0;
    if (!resolve && Object.keys(changes).length === 0) throw missing("status");
    const current = existing(id);
    if (resolve && current.status === 0) {
      throw new HttpError(409, CODES.conflict, `Alarm already resolved: ${id}`, { id });
    }
    const by = str(body, "by") ?? "operator";
    let out = current;
    if (Object.keys(changes).length > 0) {
      out = (await operator.amend(id, changes, by)) ?? existing(id);
      log.info({ alarmId: id, by, changes }, "alarm changed by operator");
    }
    if (resolve) {
      const remark = str(body, "remark") ?? "resolved manually from the local API";
      // Null: resolved automatically between the check and the commit.
      out = (await operator.resolve(id, by, remark)) ?? existing(id);
      log.info({ alarmId: id, by }, "alarm resolved by operator");
    }
    return alarmShape(out);
  });

  add("/alert/del", "POST", async (ctx): Promise<AlarmShape> => {
    const id = str(await ctx.body(), "id", true);
    const r = await operator.remove(id);
    if (r.ok) {
      log.info({ alarmId: id }, "alarm deleted by operator");
      return alarmShape(r.alarm);
    }
    if (r.reason === "not-found") throw alarmNotFound(id);
    if (r.reason === "active") {
      throw new HttpError(
        400,
        CODES.missingParameter,
        `Invalid parameter: id (alarm ${id} is active, status ${r.alarm.status}: resolve it first with POST /alert/update {"id": "${id}", "status": 0}; only resolved alarms can be deleted)`,
        { field: "id", id, status: r.alarm.status },
      );
    }
    throw new HttpError(
      409,
      CODES.conflict,
      `Alarm ${id} is still being delivered upstream (${r.pending ?? 0} outbox item(s) pending): delete it once they are sent (edge-agent outbox shows them)`,
      { id, pending: r.pending ?? 0 },
    );
  });
}
