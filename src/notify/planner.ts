// Who is told of an alarm change, and when (docs/notifications.md, "When people are told"). Runs
// inside the alarm's transaction (called by the outbox writer): reads the alarm's notify rows there,
// never awaits, and answers the rows to insert. Each person and channel of an alarm has its own
// stream, so their messages go in order (raise before recover) and a slow channel holds back no one
// else. The checks that depend on time (still active after the delay? was the raise sent?) are the
// sender's, at send time; here only the plan is made.

import { createHash } from "node:crypto";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type { NotificationPlan, NotificationPlanner, PlannedNotification } from "../core/notify-ports.js";
import type { AlarmChange } from "../core/ports.js";
import type { Alarm, RuleDefinition } from "../core/types.js";
import type { NotifyRowInfo, OutboxRepo } from "../store/outbox-repo.js";
import type { ChannelName, NotificationPayload, NotifyTransition, RecipientGroup, RecipientUser } from "./types.js";

/** A notify row's payload: who, and when it was due (what "still active then" is checked against). */
export type NotifyRowPayload = NotificationPayload & {
  /** Epoch ms the row was due when planned (retries move next_at, never this). */
  dueAt: number;
};

/** What the planner reads of the recipients file (notify/recipients.ts RecipientDirectory). */
export interface RecipientLookup {
  get(id: string): RecipientGroup | undefined;
}

export type BuiltInChannel = "email" | "wecom" | "robot";

export interface NotificationPlannerOptions {
  repo: OutboxRepo;
  recipients: RecipientLookup;
  /** Whether a built-in channel is configured (notify.email, notify.wecom, notify.robot). */
  configured(channel: BuiltInChannel): boolean;
  log: Logger;
  metrics: MetricsRegistry;
}

type Audience = NotificationPayload["audience"];

interface Contact {
  channel: ChannelName;
  to: string;
  user?: RecipientUser;
}

const NONE: NotificationPlan = { rows: [], dueNow: [] };

/** The stream of one person and channel of an alarm: `n:<alarmId>|<channel>|<hash of the address>`. */
export function notifyStream(alarmId: string, channel: ChannelName, to: string): string {
  // The address is hashed: a robot key is a secret and the stream column is shown by the CLI.
  const key = createHash("sha256")
    .update(channel === "email" ? to.toLowerCase() : to)
    .digest("hex")
    .slice(0, 16);
  return `n:${alarmId}|${channel}|${key}`;
}

/** `actions.email` "a@x; b@y", `actions.wechat` "u1|u2", `actions["channel:sms"]` "+420…,+421…". */
export function splitAddresses(value: unknown, channel: ChannelName): string[] {
  if (typeof value !== "string") return [];
  const sep = channel === "wecom" ? /\|/ : /[,;|]/;
  return value
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The recipient group a rule (or an operator's alarm) names: an id, or an object with one. */
export function recipientIdOf(recipient: unknown): string | undefined {
  if (typeof recipient === "string") return recipient.trim() || undefined;
  if (typeof recipient === "number" && Number.isFinite(recipient)) return String(recipient);
  if (recipient !== null && typeof recipient === "object") {
    const id = (recipient as { id?: unknown }).id;
    if (typeof id === "string" && id !== "") return id;
    if (typeof id === "number") return String(id);
  }
  return undefined;
}

export class Planner implements NotificationPlanner {
  readonly #o: NotificationPlannerOptions;
  readonly #skipped: Counter;
  readonly #planned: Counter;
  /** Rules already logged for naming an unknown group (once per rule and group). */
  readonly #warned = new Set<string>();

  constructor(o: NotificationPlannerOptions) {
    this.#o = o;
    this.#skipped = o.metrics.counter(
      "edge_notifications_skipped_total",
      "Notifications not planned, by reason (unknown-recipient, channel-not-configured)",
    );
    this.#planned = o.metrics.counter("edge_notifications_planned_total", "Notifications planned, by channel");
  }

  plan(c: AlarmChange): NotificationPlan {
    const a = c.alarm;
    // Kept local (maintenance) or period OFF: no action and no notification runs.
    if (a.suppressed !== undefined || c.rule?.off === true) return NONE;
    const out: NotificationPlan = { rows: [], dueNow: [] };
    // Read back even for a new alarm: a change planned before (a replay after a restart) plans nothing twice.
    const existing = this.#o.repo.notifyRows(a.id);
    const planned = new Set<string>();
    for (const r of existing) planned.add(`${r.stream}\u0000${parse(r.payload)?.transition ?? ""}`);
    if (c.kind === "created") this.#raise(c, planned, out);
    else if (c.kind === "resolved") this.#recover(a, existing, c.now, out);
    else if (!c.firing && a.status === 2 && (c.previous?.status ?? 0) < 2) this.#escalate(c, existing, out);
    for (const r of out.rows) this.#planned.inc({ channel: (JSON.parse(r.payload) as NotifyRowPayload).channel });
    return out;
  }

  #raise(c: AlarmChange, planned: ReadonlySet<string>, out: NotificationPlan): void {
    const a = c.alarm;
    const now = c.now;
    const taken = new Set<string>();
    for (const k of planned) if (k.endsWith("\u0000raise")) taken.add(k.slice(0, -"\u0000raise".length));
    // Direct channels of the rule: told at once, whatever the alarm does next.
    for (const contact of this.#direct(c.rule)) this.#add(out, taken, a, contact, "raise", "direct", now, false);
    // A firing (actions.alarm false) runs its rule's actions, the direct channels; a recipient
    // group's delays and escalation belong to an alarm's life, which a firing does not have.
    if (c.firing) return;
    const group = this.#group(c);
    if (group === undefined) return;
    const delayMs = Math.max(0, group.delay) * 1000;
    const delayed = delayMs > 0;
    for (const contact of this.#members(group, group.users, true)) {
      this.#add(out, taken, a, contact, "raise", "users", now + delayMs, delayed, group.id);
    }
    for (const contact of this.#members(group, group.principals, false)) {
      this.#add(out, taken, a, contact, "raise", "principals", now + 2 * delayMs, delayed, group.id);
    }
  }

  /** Status 2 reached from a pre-warning: principals are told now, once (a delayed row is made due). */
  #escalate(c: AlarmChange, existing: NotifyRowInfo[], out: NotificationPlan): void {
    const group = this.#group(c);
    if (group === undefined) return;
    const taken = new Set<string>();
    for (const contact of this.#members(group, group.principals, false)) {
      const stream = notifyStream(c.alarm.id, contact.channel, contact.to);
      if (taken.has(stream)) continue;
      taken.add(stream);
      const rows = existing.filter((r) => r.stream === stream).map((r) => ({ r, p: parse(r.payload) }));
      if (rows.some(({ p }) => p?.transition === "escalate" || p?.transition === "recover")) continue;
      const waiting = rows.find(({ r, p }) => r.state === "pending" && r.next_at > c.now && p !== undefined);
      if (waiting?.p !== undefined) {
        out.dueNow.push({
          seq: waiting.r.seq,
          payload: JSON.stringify({ ...waiting.p, transition: "escalate", audience: "principals", dueAt: c.now }),
        });
        continue;
      }
      // Told of it already as a principal: at most once per principal and channel.
      if (rows.some(({ p }) => p?.audience === "principals")) continue;
      this.#add(out, new Set(), c.alarm, contact, "escalate", "principals", c.now, true, group.id);
    }
  }

  /** A recover message on every stream that carried a raise, behind it; sent only if the raise was. */
  #recover(a: Alarm, existing: NotifyRowInfo[], now: number, out: NotificationPlan): void {
    const streams = new Map<string, NotifyRowPayload | null>();
    for (const r of existing) {
      const p = parse(r.payload);
      if (p === undefined) continue;
      if (p.transition === "recover") streams.set(r.stream, null);
      else if (!streams.has(r.stream)) streams.set(r.stream, p);
    }
    for (const [stream, first] of streams) {
      if (first === null) continue;
      const payload: NotifyRowPayload = {
        alarmId: a.id,
        transition: "recover",
        audience: first.audience,
        channel: first.channel,
        to: first.to,
        dueAt: now,
      };
      if (first.userId !== undefined) payload.userId = first.userId;
      if (first.recipientId !== undefined) payload.recipientId = first.recipientId;
      out.rows.push({ stream, alarmId: a.id, payload: JSON.stringify(payload), nextAt: now });
    }
  }

  #add(
    out: NotificationPlan,
    taken: Set<string>,
    a: Alarm,
    contact: Contact,
    transition: NotifyTransition,
    audience: Audience,
    dueAt: number,
    onlyIfActive: boolean,
    recipientId?: string,
  ): void {
    const stream = notifyStream(a.id, contact.channel, contact.to);
    // One raise per person and channel: the first audience that names them (direct, users, principals) wins.
    if (taken.has(stream)) return;
    taken.add(stream);
    const payload: NotifyRowPayload = {
      alarmId: a.id,
      transition,
      audience,
      channel: contact.channel,
      to: contact.to,
      dueAt,
    };
    if (contact.user !== undefined) payload.userId = contact.user.id;
    if (recipientId !== undefined) payload.recipientId = recipientId;
    if (onlyIfActive) payload.onlyIfActive = true;
    const row: PlannedNotification = { stream, alarmId: a.id, payload: JSON.stringify(payload), nextAt: dueAt };
    out.rows.push(row);
  }

  #direct(rule: RuleDefinition | null): Contact[] {
    const actions = rule?.actions as Record<string, unknown> | undefined;
    if (actions === undefined) return [];
    const out: Contact[] = [];
    for (const [key, value] of Object.entries(actions)) {
      let channel: ChannelName;
      if (key === "email") channel = "email";
      else if (key === "wechat") channel = "wecom";
      else if (key.startsWith("channel:") && key.length > "channel:".length) channel = key as ChannelName;
      else continue;
      const addresses = splitAddresses(value, channel);
      if (addresses.length === 0) continue;
      if ((channel === "email" || channel === "wecom") && !this.#o.configured(channel)) {
        this.#skip("channel-not-configured", addresses.length);
        continue;
      }
      for (const to of addresses) out.push({ channel, to });
    }
    return out;
  }

  /** The contact points of members (and, for users, the group's robots) on the configured channels. */
  #members(group: RecipientGroup, members: readonly RecipientUser[], robots: boolean): Contact[] {
    const out: Contact[] = [];
    for (const user of members) {
      if (typeof user.email === "string" && user.email !== "") {
        if (this.#o.configured("email")) out.push({ channel: "email", to: user.email, user });
        else this.#skip("channel-not-configured");
      }
      if (typeof user.wecomUserId === "string" && user.wecomUserId !== "") {
        if (this.#o.configured("wecom")) out.push({ channel: "wecom", to: user.wecomUserId, user });
        else this.#skip("channel-not-configured");
      }
    }
    if (robots) {
      for (const robot of group.robots ?? []) {
        if (typeof robot !== "string" || robot === "") continue;
        if (this.#o.configured("robot")) out.push({ channel: "robot", to: robot });
        else this.#skip("channel-not-configured");
      }
    }
    return out;
  }

  #group(c: AlarmChange): RecipientGroup | undefined {
    const id = recipientIdOf(c.rule?.recipient ?? c.alarm.recipient);
    if (id === undefined) return undefined;
    const group = this.#o.recipients.get(id);
    if (group !== undefined) return group;
    this.#skip("unknown-recipient");
    const key = `${c.rule?.id ?? c.alarm.ruleId}\u0000${id}`;
    if (!this.#warned.has(key)) {
      this.#warned.add(key);
      this.#o.log.warn(
        { ruleId: c.rule?.id ?? c.alarm.ruleId, recipient: id, file: "notify.recipientsFile" },
        `rule names recipient group "${id}", which the recipients file does not define: the alarm is raised, nobody of the group is told; add the group to the recipients file`,
      );
    }
    return undefined;
  }

  #skip(reason: "unknown-recipient" | "channel-not-configured", by = 1): void {
    this.#skipped.inc({ reason }, by);
  }
}

function parse(payload: string): NotifyRowPayload | undefined {
  try {
    const p = JSON.parse(payload) as NotifyRowPayload;
    return typeof p === "object" && p !== null ? p : undefined;
  } catch {
    return undefined;
  }
}
