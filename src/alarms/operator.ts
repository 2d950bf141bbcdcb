// An operator's manual alarm (/alert/add): not tied to any rule (ruleId ""), raised and resolved
// by hand. Its work order, when asked for, goes through the same outbox path as a rule's; the
// synthetic rule built here only carries that request (no conditions, no webhook).

import type { ManualAlarmInput } from "../core/ports.js";
import type { Alarm, DeviceState, RuleDefinition, WorkOrderAction } from "../core/types.js";

export const OPERATOR_TYPE = "operator";

export function buildManualAlarm(
  id: string,
  input: ManualAlarmInput,
  device: DeviceState | undefined,
  now: number,
): Alarm {
  const resource: Alarm["resource"] = { id: input.deviceId ?? "", product: device?.product ?? "" };
  if (device?.name !== undefined) resource.name = device.name;
  if (device?.areaId !== undefined) resource.areaId = device.areaId;
  const a: Alarm = {
    id,
    ruleId: "",
    name: input.name,
    title: input.title ?? input.name,
    message: input.message ?? input.title ?? input.name,
    type: OPERATOR_TYPE,
    level: input.level ?? 2,
    status: input.status ?? 2,
    resource,
    location: input.location !== undefined ? input.location : (device?.location ?? null),
    details: input.details ?? {},
    period: 0,
    created: now,
    updated: now,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
    origin: "operator",
    recurrences: 0,
    lastRecurrence: null,
  };
  if (input.recipient !== undefined) a.recipient = input.recipient;
  return a;
}

/** The rule-shaped carrier of an operator alarm's actions (hooks see it as the alarm's rule). */
export function manualRule(a: Alarm, workOrder: ManualAlarmInput["workOrder"]): RuleDefinition {
  const def: RuleDefinition = {
    id: "",
    name: a.name,
    title: a.title,
    key: a.resource.product,
    type: "rule",
    level: a.level,
    conditions: { all: [] },
  };
  if (a.resource.id !== "") def.did = a.resource.id;
  if (workOrder) def.actions = { workOrder: workOrder === true ? {} : (workOrder as WorkOrderAction) };
  return def;
}
