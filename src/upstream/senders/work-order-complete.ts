// `workorder.complete` rows → the work-order API's auto-complete, naming the orderId the alarm's
// create obtained. Without it the completion cannot go: skipped when the create was, dead-lettered
// otherwise (with the create's own fate as the reason).

import type { WorkOrder } from "../../core/types.js";
import type { WorkOrderCompletePayload, WorkOrderCreatePayload } from "../../store/outbox-payloads.js";
import type { OutboxRow } from "../../store/outbox-repo.js";
import type { WorkOrderClient } from "../../workorders/client.js";
import { dependencyState, failed, type Result, type SenderContext, type SendFailure, skipped } from "./context.js";

export async function sendWorkOrderComplete(ctx: SenderContext, row: OutboxRow): Promise<Result> {
  const client = ctx.workOrders as WorkOrderClient<SendFailure>;
  const alarmId = row.alarm_id ?? "";
  const orderId = ctx.repo.alarmRefs(alarmId)?.workOrderId ?? null;
  if (orderId === null) {
    const create = ctx.repo.settled(row.stream, "workorder.create");
    if (create?.state === "skipped") return skipped(row, "the work-order create was skipped by beforeUpload");
    return { row, kind: "dead", reason: `no orderId: the work-order create is ${dependencyState(create)}` };
  }
  const logical = JSON.parse(row.payload) as WorkOrderCompletePayload;
  const payload = (await ctx.intercept("workorder.complete", { orderId, remark: logical.remark })) as {
    orderId: string;
    remark: string;
  } | null;
  if (payload === null) return skipped(row);
  const out = await client.complete(String(payload.orderId), String(payload.remark ?? ""));
  if (out.kind !== "completed") return failed(row, out);
  let created: Partial<WorkOrderCreatePayload> = {};
  try {
    created = JSON.parse(ctx.repo.workOrderCreatePayload(alarmId) ?? "{}") as Partial<WorkOrderCreatePayload>;
  } catch {
    // the create row was purged by retention: the event carries what is known
  }
  const completed: WorkOrder = {
    orderId,
    alarmId,
    title: created.title ?? "",
    priority: created.priority ?? 3,
    remark: payload.remark,
    ...(created.areaId !== undefined ? { areaId: created.areaId } : {}),
    ...(created.alarmType !== undefined ? { alarmType: created.alarmType } : {}),
  };
  ctx.log.info({ orderId, alarmId }, "work order auto-completed");
  return { row, kind: "ok", completed };
}
