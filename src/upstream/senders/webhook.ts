// `webhook` rows → POST of the alarm JSON to the rule's webhook URL.

import type { WebhookPayload } from "../../store/outbox-payloads.js";
import type { OutboxRow } from "../../store/outbox-repo.js";
import { failed, type Result, type SenderContext, skipped } from "./context.js";

export async function sendWebhook(ctx: SenderContext, row: OutboxRow): Promise<Result> {
  const p = JSON.parse(row.payload) as WebhookPayload;
  const payload = await ctx.intercept("webhook", p.alarm);
  if (payload === null) return skipped(row);
  let url: URL;
  try {
    url = new URL(p.url);
  } catch {
    return { row, kind: "dead", reason: `webhook URL is invalid: ${p.url}` };
  }
  // The upstream token is never sent to a webhook: it is another party.
  const out = await ctx.send(
    "webhook",
    url,
    { "Content-Type": "application/json", "Idempotency-Key": `${row.alarm_id}:${row.seq}` },
    JSON.stringify(payload),
  );
  if (out.kind !== "ok") return failed(row, out);
  return { row, kind: "ok" };
}
