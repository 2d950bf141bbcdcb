// Notifications end to end below the agent: alarm changes committed with the real outbox writer and
// planner into a real SQLite file, delivered by the real dispatcher through the real channels (SMTP
// to test/helpers/smtp.ts, WeCom to test/helpers/wecom.ts), on a manual clock.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { notifyParts } from "../../src/app/notify.js";
import { resolveNotify, resolveOutbox, resolveUpstream } from "../../src/config/defaults.js";
import type { NotifyConfig, UpstreamConfig } from "../../src/config/schema.js";
import { ManualClock } from "../../src/core/clock.js";
import { EventBus } from "../../src/core/events.js";
import { MetricsRegistry } from "../../src/core/metrics.js";
import type { HookChannels, NotifyInterceptor } from "../../src/core/notify-ports.js";
import type { AlarmChange } from "../../src/core/ports.js";
import type { Alarm, DeviceState, RuleDefinition } from "../../src/core/types.js";
import { buildChannels, type Channel } from "../../src/notify/channels/index.js";
import type { ChannelName, NotificationMessage, RecipientGroup } from "../../src/notify/types.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { OutboxWriter } from "../../src/store/outbox-writer.js";
import { Dispatcher } from "../../src/upstream/dispatcher.js";
import type { RenderInput } from "../../src/upstream/senders/context.js";
import { captureLog, type LogLine } from "./harness.js";
import { testAlarm } from "./upstream.js";
import { waitFor } from "./wait.js";

export interface NotifyHarness {
  dir: string;
  db: Db;
  clock: ManualClock;
  events: EventBus;
  metrics: MetricsRegistry;
  lines: LogLine[];
  dispatcher: Dispatcher;
  /** Channel sends started and not yet answered. */
  readonly inflight: number;
  /**
   * Moves the manual clock forward in steps, letting every send a step starts be answered before the
   * next step (a jump would also fire the timeouts of the sends it starts), until `done` holds.
   */
  stepUntil(done: () => boolean, opts: { stepMs: number; maxMs: number; what: string }): Promise<void>;
  /** Commits an alarm change as the alarm service does (alarm row + outbox rows, one transaction). */
  commit(kind: AlarmChange["kind"], alarm: Alarm, previous: Alarm | null, rule: RuleDefinition | null): void;
  /** Notify rows of an alarm, in order, with their payload parsed. */
  rows(alarmId: string): NotifyRowView[];
  close(): Promise<void>;
}

export interface NotifyRowView {
  seq: number;
  state: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  transition: string;
  audience: string;
  channel: string;
  to: string;
}

/** Renders what a test needs to recognise a message: its transition, alarm and address. */
export function plainRender(input: RenderInput): NotificationMessage {
  const title = input.alarm?.title ?? "test";
  return {
    channel: input.channel,
    to: input.to,
    transition: input.transition,
    lang: input.lang,
    subject: `[${input.transition}] ${title} (${input.alarm?.id ?? ""})`,
    text: `${input.transition}: ${title} on ${input.device?.id ?? "?"}`,
    ...(input.alarm !== undefined ? { alarm: input.alarm } : {}),
  };
}

export function createNotifyHarness(opts: {
  notify: NotifyConfig;
  groups?: RecipientGroup[];
  upstream?: UpstreamConfig;
  hooks?: { interceptor: NotifyInterceptor<NotificationMessage>; channels: HookChannels<NotificationMessage> };
  render?: (input: RenderInput) => NotificationMessage;
  /** Keep an existing directory (a restart). */
  dir?: string;
}): NotifyHarness {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "edge-notify-"));
  const db = openDatabase(join(dir, "edge-agent.db"));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const cap = captureLog({ level: "debug" });
  const log = cap.log;
  const http = new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  const events = new EventBus(log);
  const metrics = new MetricsRegistry();
  const groups = new Map((opts.groups ?? []).map((g) => [g.id, g]));
  const devices = { get: () => undefined, list: () => [] };
  let inflight = 0;
  // Sends started, and outcomes recorded (announced after their commit): equal when all is settled.
  let started = 0;
  let recorded = 0;
  const channels = new Map<ChannelName, Channel>();
  const resolved = resolveNotify(opts.notify, dir);
  for (const [name, ch] of buildChannels(resolved, { http, clock, log })) {
    channels.set(name, {
      name: ch.name,
      target: ch.target,
      send: async (m, signal) => {
        inflight++;
        started++;
        try {
          return await ch.send(m, signal);
        } finally {
          inflight--;
        }
      },
      close: () => ch.close?.() ?? Promise.resolve(),
    });
  }
  const parts = notifyParts({
    channels,
    config: { notify: resolved, timezone: "UTC" },
    db,
    clock,
    log,
    metrics,
    http,
    recipients: { get: (id) => groups.get(id) },
    devices,
    render: opts.render ?? plainRender,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
  });
  events.on("notificationSent", () => recorded++);
  events.on("notificationFailed", () => recorded++);
  const settled = () => waitFor(() => inflight === 0 && recorded >= started, { what: "channel sends recorded" });
  const writer = new OutboxWriter({ db, clock, log, planner: parts.planner });
  const dispatcher = new Dispatcher({
    db,
    clock,
    log,
    metrics,
    events,
    http,
    upstream: opts.upstream && resolveUpstream(opts.upstream),
    outbox: resolveOutbox(undefined),
    notify: parts.delivery,
    random: () => 1,
  });
  const device: DeviceState = {
    id: "meter-01",
    product: "meter",
    status: "online",
    lastSeen: null,
    values: {},
    source: "mqtt",
  };
  return {
    dir,
    db,
    clock,
    events,
    metrics,
    lines: cap.lines,
    dispatcher,
    get inflight() {
      return inflight;
    },
    async stepUntil(done, o) {
      for (let t = 0; t <= o.maxMs; t += o.stepMs) {
        await settled();
        if (done()) return;
        clock.advance(o.stepMs);
      }
      await settled();
      if (!done()) throw new Error(`not reached within ${o.maxMs} ms of agent time: ${o.what}`);
    },
    commit(kind, alarm, previous, rule) {
      db.transaction(() => {
        db.prepare(
          `INSERT INTO alarms (id, rule_id, device_id, status, level, created, updated, resolved_at, doc)
           VALUES (@id, @ruleId, @deviceId, @status, @level, @created, @updated, @resolvedAt, @doc)
           ON CONFLICT(id) DO UPDATE SET status = excluded.status, level = excluded.level, updated = excluded.updated,
             resolved_at = excluded.resolved_at, doc = excluded.doc`,
        ).run({
          id: alarm.id,
          ruleId: alarm.ruleId,
          deviceId: alarm.resource.id,
          status: alarm.status,
          level: alarm.level,
          created: alarm.created,
          updated: alarm.updated,
          resolvedAt: alarm.resolvedAt,
          doc: JSON.stringify(alarm),
        });
        writer.writeInTransaction([
          { kind, alarm, previous, rule, device, cause: { by: "rule", remark: "" }, now: clock.now() },
        ]);
      })();
      dispatcher.kick();
    },
    rows(alarmId) {
      return (
        db
          .prepare(
            "SELECT seq, state, attempts, next_at, last_error, payload FROM outbox WHERE alarm_id = ? AND kind = 'notify' ORDER BY seq",
          )
          .all(alarmId) as (Omit<NotifyRowView, "transition" | "audience" | "channel" | "to"> & { payload: string })[]
      ).map(({ payload, ...r }) => {
        const p = JSON.parse(payload) as { transition: string; audience: string; channel: string; to: string };
        return { ...r, transition: p.transition, audience: p.audience, channel: p.channel, to: p.to };
      });
    },
    async close() {
      await dispatcher.stop();
      await parts.close();
      await http.close();
      db.close();
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An alarm of the over-voltage rule on meter-01 (testAlarm's, without area or location). */
export function notifyAlarm(id: string, now: number, extra: Partial<Alarm> = {}): Alarm {
  return testAlarm(id, now, {
    resource: { id: "meter-01", name: "Main incomer", product: "meter" },
    location: null,
    details: { voltage: 262 },
    ...extra,
  });
}

/** The alarm resolved at `now`. */
export function resolvedAlarm(a: Alarm, now: number): Alarm {
  return { ...a, status: 0, updated: now, resolvedAt: now };
}
