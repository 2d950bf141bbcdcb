// The seams of notifications (docs/notifications.md): the planner the outbox writer calls inside the
// alarm's transaction, and what the hooks see of a message and its delivery.

import type { AlarmChange } from "./ports.js";
import type { Alarm } from "./types.js";

/** An outbox row of kind "notify" the planner asks the writer to insert. */
export interface PlannedNotification {
  stream: string;
  alarmId: string;
  /** The row's JSON payload (notify/types.ts NotificationPayload). */
  payload: string;
  /** Epoch ms it is due (now, or after the recipient group's delay). */
  nextAt: number;
}

/** What an alarm change means for the people to tell: rows to insert, pending rows made due now. */
export interface NotificationPlan {
  rows: PlannedNotification[];
  dueNow: { seq: number; payload: string }[];
}

/**
 * Decides who is told of an alarm change and when. Called by the outbox writer inside the alarm's
 * transaction (it may read the outbox there, never awaits); the writer inserts what it answers.
 */
export interface NotificationPlanner {
  plan(change: AlarmChange): NotificationPlan;
}

/** A rendered notification as events and ports carry it (notify/types.ts NotificationMessage is the full type). */
export interface NotificationInfo {
  channel: string;
  to: string;
  transition: string;
  subject: string;
  text: string;
  alarm?: Alarm;
}

/** Where a notification stands when a hook hears of it (the outbox row that carries it). */
export interface NotificationDelivery {
  seq: number;
  alarmId: string;
  audience: string;
  /** Attempts before this one. */
  attempts: number;
}

/** How a notification send ended, as onNotificationSent / onNotificationFailed see it. */
export interface NotificationOutcome extends NotificationDelivery {
  ok: boolean;
  /** sent; retry: tried again later; dead: given up (a dead letter, see edge-agent outbox). */
  outcome: "sent" | "retry" | "dead";
  /** The channel's error code (an SMTP reply code, a WeCom errcode), when it gave one. */
  code?: string;
  /** Why it failed. */
  message?: string;
}

/** The hooks' `beforeNotify`: the message to send (possibly changed), or null (vetoed, with the hook's name). */
export interface NotifyInterceptor<M extends NotificationInfo = NotificationInfo> {
  readonly active: boolean;
  beforeNotify(message: M, delivery: NotificationDelivery): Promise<{ message: M } | { vetoedBy: string }>;
}

/** How a hook channel's send ended: ok, or failed (permanent: a typed ProcessingError, never retried). */
export type HookChannelResult = { ok: true } | { ok: false; permanent: boolean; message: string };

/** Channels provided by hooks (`channels: ["sms"]` + `sendNotification`): `channel:<name>` rows go here. */
export interface HookChannels<M extends NotificationInfo = NotificationInfo> {
  /** Name of the running hook that provides the channel, or undefined. */
  provider(channel: string): string | undefined;
  send(channel: string, message: M, delivery: NotificationDelivery): Promise<HookChannelResult>;
}
