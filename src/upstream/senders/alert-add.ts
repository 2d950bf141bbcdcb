// `alert.add` rows → POST /alert/add. The platform's id in the answer is what later updates name;
// the alarm id is the idempotency key, so a repeat after a lost answer is the same alarm.

import type { UpstreamConfig } from "../../config/schema.js";
import { endpoint } from "../../core/url.js";
import type { OutboxRow } from "../../store/outbox-repo.js";
import { rawId, rawMembers } from "../../workorders/json-raw.js";
import { failed, type Result, type SenderContext, skipped, upstreamHeaders } from "./context.js";

export async function sendAlertAdd(ctx: SenderContext, row: OutboxRow): Promise<Result> {
  const upstream = ctx.upstream as UpstreamConfig;
  const payload = await ctx.intercept("alert.add", JSON.parse(row.payload));
  if (payload === null) return skipped(row);
  const alarmId = row.alarm_id ?? "";
  const out = await ctx.send(
    "upstream",
    endpoint(upstream.baseUrl, "/alert/add"),
    upstreamHeaders(upstream, { "Idempotency-Key": alarmId }),
    JSON.stringify(payload),
  );
  if (out.kind !== "ok") return failed(row, out);
  let upstreamId = rawId(rawMembers(out.text)?.get("id"));
  if (upstreamId === null) {
    ctx.log.warn({ alarmId }, "upstream /alert/add answered without an id; using the local alarm id for updates");
    upstreamId = alarmId;
  }
  return { row, kind: "ok", upstreamId };
}
