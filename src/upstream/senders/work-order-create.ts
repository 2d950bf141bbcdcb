// `workorder.create` rows → the work-order API's create, through the signed client. The orderId in
// the answer is what the alarm's completion later names; the created order is announced as an event.

import type { WorkOrder } from "../../core/types.js";
import type { WorkOrderCreatePayload } from "../../store/outbox-payloads.js";
import type { OutboxRow } from "../../store/outbox-repo.js";
import type { WorkOrderClient } from "../../workorders/client.js";
import { failed, type Result, type SenderContext, type SendFailure, skipped } from "./context.js";

export async function sendWorkOrderCreate(ctx: SenderContext, row: OutboxRow): Promise<Result> {
  const client = ctx.workOrders as WorkOrderClient<SendFailure>;
  const payload = (await ctx.intercept("workorder.create", JSON.parse(row.payload))) as WorkOrderCreatePayload | null;
  if (payload === null) return skipped(row);
  const out = await client.create(payload);
  if (out.kind !== "created") return failed(row, out);
  const orderId = out.orderId;
  const order: WorkOrder = {
    orderId,
    alarmId: payload.alarmId,
    title: payload.title,
    priority: payload.priority ?? 3,
    ...(payload.areaId !== undefined ? { areaId: payload.areaId } : {}),
    ...(payload.alarmType !== undefined ? { alarmType: payload.alarmType } : {}),
  };
  ctx.log.info({ orderId, alarmId: payload.alarmId }, "work order created");
  return { row, kind: "ok", orderId, order };
}
