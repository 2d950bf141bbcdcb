// `alert.update` rows → POST /alert/update, addressed by the upstream id the alarm's add obtained.
// Without it the update cannot go: it is skipped when the add was, dead-lettered otherwise (with
// the add's own fate, so the last dead letter names the root cause).

import type { UpstreamConfig } from "../../config/schema.js";
import { endpoint } from "../../core/url.js";
import type { AlertUpdatePayload } from "../../store/outbox-payloads.js";
import type { OutboxRow } from "../../store/outbox-repo.js";
import { dependencyState, failed, type Result, type SenderContext, skipped, upstreamHeaders } from "./context.js";

export async function sendAlertUpdate(ctx: SenderContext, row: OutboxRow): Promise<Result> {
  const upstream = ctx.upstream as UpstreamConfig;
  const alarmId = row.alarm_id ?? "";
  const upstreamId = ctx.repo.alarmRefs(alarmId)?.upstreamId ?? null;
  if (upstreamId === null) {
    const add = ctx.repo.settled(row.stream, "alert.add");
    if (add?.state === "skipped") return skipped(row, "the alarm's add was skipped by beforeUpload");
    return { row, kind: "dead", reason: `no upstream id: the alarm's /alert/add is ${dependencyState(add)}` };
  }
  const logical = JSON.parse(row.payload) as Partial<AlertUpdatePayload>;
  // The platform requires `name` on every update. Rows queued by an older version lack it: take it
  // from the alarm; the local id is the last resort, still better than a certain 104001 refusal.
  const { name: stored, ...changed } = logical;
  const name = stored || ctx.repo.alarmName(alarmId) || alarmId;
  const payload = await ctx.intercept("alert.update", { id: upstreamId, name, ...changed });
  if (payload === null) return skipped(row);
  const out = await ctx.send(
    "upstream",
    endpoint(upstream.baseUrl, "/alert/update"),
    upstreamHeaders(upstream, { "Idempotency-Key": `${alarmId}:${row.seq}` }),
    JSON.stringify(payload),
  );
  if (out.kind !== "ok") return failed(row, out);
  return { row, kind: "ok" };
}
