// What an outbox row's payload holds, per kind, and how it is decided from an alarm change
// (docs/upstream.md). Rows hold the logical payload, fixed when the alarm changes; the wire bytes are
// built at send time (upstream/senders, workorders/), when the upstream id or orderId they depend
// on is known. This lives in store/ because the writer fills it inside the alarm transaction and the
// store imports nothing above it; the senders read it back.

import type { Alarm, RuleDefinition } from "../core/types.js";

/** Logical body of `POST /alert/add`; also the wire body. */
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

/**
 * Logical body of `POST /alert/update`; `id` (the upstream id) is added at send time. The platform
 * requires `name` on every update; `title` / `message` only when this change altered them.
 */
export interface AlertUpdatePayload {
  name: string;
  status: number;
  level: number;
  updated: number;
  title?: string;
  message?: string;
}

export interface WebhookPayload {
  url: string;
  alarm: Alarm;
}

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

/** The orderId is not known when the row is written: it is looked up at send time. */
export interface WorkOrderCompletePayload {
  remark: string;
}

/** Streams: one per alarm and target, so each target keeps the alarm's order on its own. */
export const alertStream = (alarmId: string) => `a:${alarmId}`;
export const workOrderStream = (alarmId: string) => `w:${alarmId}`;
export const webhookStream = (alarmId: string) => `h:${alarmId}`;

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

/** An alarm a rule raised (automatic report). */
export const DEFAULT_TRIGGER_SOURCE = "自动上报";
/** An alarm an operator raised by hand through the local `/alert/add` (manual report). */
export const OPERATOR_TRIGGER_SOURCE = "人工上报";
/** Sent when the device has no areaId: the platform's field is a required integer. */
export const NO_AREA_ID = 0;

/** Work-order priority: 0 urgent, 1 important, 2 normal, 3 minor. */
export type WorkOrderPriority = 0 | 1 | 2 | 3;

/** Follows the alarm level when the rule sets no priority: 5→0, 4→1, 3→2, ≤2→3. */
export function priorityForLevel(level: number): WorkOrderPriority {
  if (level >= 5) return 0;
  if (level === 4) return 1;
  if (level === 3) return 2;
  return 3;
}

/** A rule's explicit priority wins; otherwise it follows the alarm level. */
export function resolvePriority(rulePriority: number | undefined, level: number): WorkOrderPriority {
  if (rulePriority === 0 || rulePriority === 1 || rulePriority === 2 || rulePriority === 3) return rulePriority;
  return priorityForLevel(level);
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

/** What to write in the completion: what cleared the alarm, for the people who read the order. */
export function completionRemark(alarm: Alarm, cause: { by: string; remark: string }, nowMs: number): string {
  const when = new Date(nowMs).toISOString();
  const what = cause.remark ? cause.remark : `alarm "${alarm.title}" returned to normal`;
  return `Auto-completed by edge-agent: ${what} (cleared by ${cause.by} at ${when})`;
}
