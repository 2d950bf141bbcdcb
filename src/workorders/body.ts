// Work-order request bodies (docs/upstream.md). The create payload is decided when the alarm is raised and
// stored in the outbox; the bytes are produced here at send time, compact JSON with non-ASCII kept
// as UTF-8 (JSON.stringify never escapes it), optional fields omitted when empty, and the 64-bit
// orderId spliced in as a bare integer from its exact decimal text. `areaId` is an integer the
// platform always expects: 0 when the device has none, a decimal string written as a bare integer.

import type { Alarm, RuleDefinition } from "../core/types.js";
import { isIntegerText } from "./json-raw.js";
import { resolvePriority } from "./priority.js";

/** An alarm a rule raised (automatic report). */
export const DEFAULT_TRIGGER_SOURCE = "自动上报";
/** An alarm an operator raised by hand through the local `/alert/add` (manual report). */
export const OPERATOR_TRIGGER_SOURCE = "人工上报";
/** Sent when the device has no areaId: the platform's field is a required integer. */
export const NO_AREA_ID = 0;

export interface WorkOrderCreatePayload {
  title: string;
  areaId?: number | string;
  alarmId: string;
  alarmType: string;
  description?: string;
  priority?: number;
  triggerSource?: string;
  cameraId?: string;
  imageUrl?: string;
}

export interface WorkOrderCompletePayload {
  remark: string;
}

/** The create payload for an alarm raised by a rule with `actions.workOrder`. */
export function createPayloadFor(alarm: Alarm, rule: RuleDefinition): WorkOrderCreatePayload {
  const wo = rule.actions?.workOrder ?? {};
  const p: WorkOrderCreatePayload = {
    title: alarm.title || rule.title || rule.name,
    alarmId: alarm.id,
    alarmType: wo.alarmType || rule.name || alarm.type,
    priority: resolvePriority(wo.priority, alarm.level),
    triggerSource: wo.triggerSource || triggerSourceFor(alarm),
  };
  const areaId = alarm.resource.areaId;
  p.areaId = areaId !== undefined && areaId !== "" ? areaId : NO_AREA_ID;
  const description = wo.description || alarm.message;
  if (description) p.description = description;
  if (wo.cameraId) p.cameraId = wo.cameraId;
  if (wo.imageUrl) p.imageUrl = wo.imageUrl;
  return p;
}

export function triggerSourceFor(alarm: Pick<Alarm, "origin">): string {
  return alarm.origin === "operator" ? OPERATOR_TRIGGER_SOURCE : DEFAULT_TRIGGER_SOURCE;
}

/** A decimal integer that is also valid JSON number syntax (no leading zeros). */
const JSON_INTEGER = /^-?(?:0|[1-9]\d*)$/;

const ORDER: readonly (keyof WorkOrderCreatePayload)[] = [
  "title",
  "areaId",
  "alarmId",
  "alarmType",
  "description",
  "priority",
  "triggerSource",
  "cameraId",
  "imageUrl",
];

/**
 * Exact body bytes of a create request; keys in the API's order, empty optional fields omitted,
 * `areaId` always present (rows queued before it was always set get 0).
 */
export function createBody(p: WorkOrderCreatePayload): string {
  const parts: string[] = [];
  for (const k of ORDER) {
    let v: unknown = p[k];
    if (k === "areaId") {
      if (v === undefined || v === null || v === "") v = NO_AREA_ID;
      if (typeof v === "string" && JSON_INTEGER.test(v)) {
        parts.push(`"areaId":${v}`);
        continue;
      }
    }
    if (v === undefined || v === null || v === "") continue;
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return `{${parts.join(",")}}`;
}

/** Exact body bytes of an auto-complete request, with orderId a bare JSON integer. */
export function completeBody(orderId: string, remark: string): string {
  if (!isIntegerText(orderId)) throw new TypeError(`work-order id ${JSON.stringify(orderId)} is not an integer`);
  return `{"orderId":${orderId},"remark":${JSON.stringify(remark)}}`;
}

/** What to write in the completion: what cleared the alarm, for the people who read the order. */
export function completionRemark(alarm: Alarm, cause: { by: string; remark: string }, nowMs: number): string {
  const when = new Date(nowMs).toISOString();
  const what = cause.remark ? cause.remark : `alarm "${alarm.title}" returned to normal`;
  return `Auto-completed by edge-agent: ${what} (cleared by ${cause.by} at ${when})`;
}
