// `notify` rows → one message to one person on one channel (docs/notifications.md, "Delivery").
// What is sent is decided now, not when the row was planned: the alarm is read again (it may have
// changed or resolved since), a delayed raise goes only if the alarm was still active when it fell
// due, a recover only if the raise on its stream was sent. The message is rendered, passed through
// the hooks' beforeNotify, and sent by its channel (built-in, or a hook's `sendNotification`).

import type { NotificationDelivery, NotificationOutcome } from "../../core/notify-ports.js";
import type { Alarm, DeviceInfo } from "../../core/types.js";
import type { NotifyRowPayload } from "../../notify/planner.js";
import type { NotificationMessage } from "../../notify/types.js";
import type { OutboxRow } from "../../store/outbox-repo.js";
import type { NotifyDeliveryContext, Result, SenderContext } from "./context.js";

export async function sendNotify(ctx: SenderContext, row: OutboxRow): Promise<Result> {
  const n = ctx.notify;
  if (n === undefined) return { row, kind: "retry", reason: "notifications are not set up in this agent" };
  let p: NotifyRowPayload;
  try {
    p = JSON.parse(row.payload) as NotifyRowPayload;
  } catch {
    return { row, kind: "dead", reason: "notify item is damaged: its payload is not JSON" };
  }
  let alarm: Alarm | undefined;
  if (p.transition !== "test") {
    alarm = n.alarms.get(p.alarmId);
    if (alarm === undefined) return { row, kind: "skipped", reason: "the alarm is no longer in the database" };
    const why = notNow(n, row, p, alarm);
    if (why !== undefined) return { row, kind: "skipped", reason: why };
  }
  const now = n.now();
  let message: NotificationMessage;
  try {
    message = n.render({
      ...(alarm !== undefined ? { alarm } : {}),
      transition: p.transition,
      channel: p.channel,
      to: p.to,
      ...(alarm !== undefined ? { device: deviceOf(n, alarm) } : {}),
      lang: n.lang,
      timezone: n.timezone,
      ...(n.statusPageUrl !== undefined ? { statusPageUrl: n.statusPageUrl } : {}),
      now,
    });
  } catch (err) {
    // A broken site template fails the same way on every attempt.
    return { row, kind: "dead", reason: `cannot render the ${p.channel} message: ${(err as Error).message}` };
  }
  if (p.recipientId !== undefined) message.recipientId = p.recipientId;
  if (p.userId !== undefined) message.userId = p.userId;
  const delivery: NotificationDelivery = {
    seq: row.seq,
    alarmId: p.alarmId,
    audience: p.audience,
    attempts: row.attempts,
  };
  if (n.interceptor?.active) {
    const verdict = await n.interceptor.beforeNotify(message, delivery);
    if ("vetoedBy" in verdict) return { row, kind: "skipped", reason: `vetoed by hook ${verdict.vetoedBy}` };
    message = verdict.message;
  }
  return deliver(n, row, p, message, delivery);
}

/** Why a row is not to be sent at all now, or undefined. */
function notNow(n: NotifyDeliveryContext, row: OutboxRow, p: NotifyRowPayload, alarm: Alarm): string | undefined {
  if (p.transition === "recover") {
    const earlier = n.repo
      .notifyRows(p.alarmId)
      .filter((r) => r.stream === row.stream && r.seq < row.seq && transitionOf(r.payload) !== "recover");
    if (earlier.some((r) => r.state === "delivered")) return undefined;
    const last = earlier[earlier.length - 1];
    return `the raise was not sent (${last === undefined ? "none planned" : last.state}): no recover message`;
  }
  if (p.onlyIfActive === true) {
    const resolvedAt = alarm.status === 0 ? (alarm.resolvedAt ?? 0) : null;
    const dueAt = p.dueAt ?? row.created;
    if (resolvedAt !== null && resolvedAt <= dueAt) return "resolved before the delay";
  }
  return undefined;
}

function deviceOf(n: NotifyDeliveryContext, alarm: Alarm): DeviceInfo {
  const d = n.devices.get(alarm.resource.id);
  if (d !== undefined) return d;
  const r = alarm.resource;
  const info: DeviceInfo = { id: r.id, product: r.product };
  if (r.name !== undefined) info.name = r.name;
  if (r.areaId !== undefined) info.areaId = r.areaId;
  return info;
}

async function deliver(
  n: NotifyDeliveryContext,
  row: OutboxRow,
  p: NotifyRowPayload,
  message: NotificationMessage,
  delivery: NotificationDelivery,
): Promise<Result> {
  const outcome = (o: Omit<NotificationOutcome, keyof NotificationDelivery>): NotificationOutcome => ({
    ...delivery,
    ...o,
  });
  if (p.channel.startsWith("channel:")) {
    const name = p.channel.slice("channel:".length);
    const hooks = n.hookChannels;
    if (hooks?.provider(name) === undefined) {
      const reason = `no running hook provides the channel "${name}" (a hook with channels: ["${name}"] and sendNotification)`;
      return {
        row,
        kind: "retry",
        reason,
        notification: { message, outcome: outcome({ ok: false, outcome: "retry", message: reason }) },
      };
    }
    const r = await hooks.send(name, message, delivery);
    if (r.ok) return { row, kind: "ok", notification: { message, outcome: outcome({ ok: true, outcome: "sent" }) } };
    const reason = `channel ${name}: ${r.message}`;
    const o = outcome({ ok: false, outcome: r.permanent ? "dead" : "retry", message: r.message });
    return r.permanent
      ? { row, kind: "dead", reason, notification: { message, outcome: o } }
      : { row, kind: "retry", reason, notification: { message, outcome: o } };
  }
  const channel = n.channels.get(p.channel);
  if (channel === undefined) {
    const reason = `the ${p.channel} channel is not configured (notify.${p.channel} in the config)`;
    return {
      row,
      kind: "retry",
      reason,
      notification: { message, outcome: outcome({ ok: false, outcome: "retry", message: reason }) },
    };
  }
  const r = await channel.send(message, n.signal());
  if (n.signal().aborted && !r.ok) return { row, kind: "aborted" };
  if (r.ok) return { row, kind: "ok", notification: { message, outcome: outcome({ ok: true, outcome: "sent" }) } };
  const code = r.code !== undefined ? String(r.code) : undefined;
  const reason = `${p.channel}${code !== undefined ? ` ${code}` : ""}: ${r.message}`;
  const o = outcome({
    ok: false,
    outcome: r.permanent ? "dead" : "retry",
    message: r.message,
    ...(code !== undefined ? { code } : {}),
  });
  if (r.permanent) {
    return {
      row,
      kind: "dead",
      reason,
      ...(code !== undefined ? { answer: { code, msg: r.message } } : {}),
      notification: { message, outcome: o },
    };
  }
  return {
    row,
    kind: "retry",
    reason,
    ...(r.retryAfterMs !== undefined ? { afterMs: r.retryAfterMs } : {}),
    notification: { message, outcome: o },
  };
}

function transitionOf(payload: string): string | undefined {
  try {
    return (JSON.parse(payload) as { transition?: string }).transition;
  } catch {
    return undefined;
  }
}
