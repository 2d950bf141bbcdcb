// Who is told of an alarm change, and when: the planner's rows as the outbox writer commits them in
// the alarm's transaction (real SQLite), read back from the outbox table.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { MetricsRegistry } from "../../../src/core/metrics.js";
import type { AlarmChange } from "../../../src/core/ports.js";
import type { Alarm, RuleActions, RuleDefinition } from "../../../src/core/types.js";
import { type BuiltInChannel, Planner } from "../../../src/notify/planner.js";
import type { RecipientGroup } from "../../../src/notify/types.js";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { OutboxRepo } from "../../../src/store/outbox-repo.js";
import { OutboxWriter } from "../../../src/store/outbox-writer.js";
import { captureLog } from "../../helpers/harness.js";
import { testAlarm as baseAlarm, commitChange, testRule } from "../../helpers/upstream.js";

let dir: string;
let db: Db;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "notify-planner-"));
  db = openDatabase(join(dir, "edge-agent.db"));
});
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  db.exec("DELETE FROM outbox; DELETE FROM alarms;");
});

const GROUP: RecipientGroup = {
  id: "ops",
  name: "Operations",
  delay: 60,
  users: [
    { id: "u1", email: "ann@example.com", wecomUserId: "ann" },
    { id: "u2", email: "bob@example.com" },
  ],
  principals: [{ id: "p1", email: "boss@example.com", wecomUserId: "boss" }],
  robots: ["robot-key-1"],
};

function setup(opts: { channels?: BuiltInChannel[]; groups?: RecipientGroup[] } = {}) {
  const channels = new Set(opts.channels ?? ["email", "wecom", "robot"]);
  const groups = new Map((opts.groups ?? [GROUP]).map((g) => [g.id, g]));
  const metrics = new MetricsRegistry();
  const cap = captureLog();
  const planner = new Planner({
    repo: new OutboxRepo({ db }),
    recipients: { get: (id) => groups.get(id) },
    configured: (c) => channels.has(c),
    log: cap.log,
    metrics,
  });
  const writer = new OutboxWriter({ db, planner });
  return { writer, metrics, cap };
}

interface NotifyRow {
  seq: number;
  stream: string;
  next_at: number;
  p: {
    transition: string;
    audience: string;
    channel: string;
    to: string;
    onlyIfActive?: boolean;
    dueAt: number;
    userId?: string;
  };
}
const notifyRows = (alarmId: string): NotifyRow[] =>
  (
    db
      .prepare("SELECT seq, stream, next_at, payload FROM outbox WHERE alarm_id = ? AND kind = 'notify' ORDER BY seq")
      .all(alarmId) as { seq: number; stream: string; next_at: number; payload: string }[]
  ).map((r) => ({ seq: r.seq, stream: r.stream, next_at: r.next_at, p: JSON.parse(r.payload) }));
const brief = (rows: NotifyRow[]) => rows.map((r) => `${r.p.transition} ${r.p.audience} ${r.p.channel} ${r.p.to}`);

const T0 = 1_000_000;
/** Each alarm on its own device: open alarms are unique per (rule, device). */
const testAlarm = (id: string, now: number, extra: Partial<Alarm> = {}): Alarm =>
  baseAlarm(id, now, { resource: { id: `dev-${id}`, product: "meter" }, ...extra });

/** An alarm change as the alarm service commits it, with the alarm as it was before. */
function change(
  writer: OutboxWriter,
  kind: AlarmChange["kind"],
  alarm: Alarm,
  previous: Alarm,
  rule: RuleDefinition,
  now: number,
) {
  db.transaction(() => {
    db.prepare("UPDATE alarms SET status = ?, updated = ? WHERE id = ?").run(alarm.status, alarm.updated, alarm.id);
    writer.writeInTransaction([
      {
        kind,
        alarm,
        previous,
        rule,
        device: {
          id: alarm.resource.id,
          product: "meter",
          status: "online",
          lastSeen: now,
          values: {},
          source: "mqtt",
        },
        cause: { by: "rule", remark: "" },
        now,
      },
    ]);
  })();
}

test("raise: direct channels at once; group users after the delay, principals after twice the delay", () => {
  const { writer } = setup();
  const rule = testRule({
    recipient: "ops",
    actions: { email: "oncall@example.com; ann@example.com", wechat: "duty1|duty2" } as RuleActions,
  });
  commitChange(db, writer, "created", testAlarm("A1", T0), { rule, now: T0 });
  const rows = notifyRows("A1");
  assert.deepEqual(brief(rows), [
    "raise direct email oncall@example.com",
    "raise direct email ann@example.com",
    "raise direct wecom duty1",
    "raise direct wecom duty2",
    // ann's e-mail is already told directly: once per person and channel
    "raise users wecom ann",
    "raise users email bob@example.com",
    "raise users robot robot-key-1",
    "raise principals email boss@example.com",
    "raise principals wecom boss",
  ]);
  for (const r of rows.filter((x) => x.p.audience === "direct")) {
    assert.equal(r.next_at, T0);
    assert.equal(r.p.onlyIfActive, undefined);
  }
  for (const r of rows.filter((x) => x.p.audience === "users")) {
    assert.equal(r.next_at, T0 + 60_000);
    assert.equal(r.p.onlyIfActive, true);
    assert.equal(r.p.dueAt, T0 + 60_000);
  }
  for (const r of rows.filter((x) => x.p.audience === "principals")) assert.equal(r.next_at, T0 + 120_000);
  // one stream per person and channel; the robot key (a secret) does not appear in it
  assert.equal(new Set(rows.map((r) => r.stream)).size, rows.length);
  assert.ok(rows.every((r) => r.stream.startsWith("n:A1|") && !r.stream.includes("robot-key-1")));
});

test("resolve: one recover per stream that carried a raise, behind it, planned once", () => {
  const { writer } = setup();
  const rule = testRule({ recipient: "ops", actions: { email: "oncall@example.com" } });
  const a = testAlarm("A2", T0);
  commitChange(db, writer, "created", a, { rule, now: T0 });
  const raises = notifyRows("A2");
  const resolved = { ...a, status: 0 as const, updated: T0 + 5000, resolvedAt: T0 + 5000 };
  commitChange(db, writer, "resolved", resolved, { rule, now: T0 + 5000 });
  // a replayed resolve plans nothing twice
  commitChange(db, writer, "resolved", resolved, { rule, now: T0 + 6000 });
  const recovers = notifyRows("A2").filter((r) => r.p.transition === "recover");
  assert.equal(recovers.length, raises.length);
  for (const rc of recovers) {
    const raise = raises.find((r) => r.stream === rc.stream);
    assert.ok(raise, `recover on a stream with a raise: ${rc.stream}`);
    assert.ok(rc.seq > raise.seq);
    assert.equal(rc.p.to, raise.p.to);
    assert.equal(rc.next_at, T0 + 5000);
  }
});

test("escalation tells the principals at once: their delayed row is made due, never planned twice", () => {
  const { writer } = setup();
  const rule = testRule({ recipient: "ops" });
  const a = testAlarm("A3", T0, { status: 1 });
  commitChange(db, writer, "created", a, { rule, now: T0 });
  const before = notifyRows("A3").filter((r) => r.p.audience === "principals");
  assert.equal(before.length, 2);
  const a2 = { ...a, status: 2 as const, updated: T0 + 10_000 };
  change(writer, "updated", a2, a, rule, T0 + 10_000);
  const afterRows = notifyRows("A3").filter((r) => r.p.audience === "principals");
  assert.deepEqual(
    afterRows.map((r) => r.seq),
    before.map((r) => r.seq),
    "the same rows, no new ones",
  );
  for (const r of afterRows) {
    assert.equal(r.p.transition, "escalate");
    assert.equal(r.next_at, T0 + 10_000);
    assert.equal(r.p.dueAt, T0 + 10_000);
  }
  // a second escalation (after a de-escalation) tells nobody again
  const a3 = { ...a, status: 1 as const, updated: T0 + 20_000 };
  change(writer, "updated", a3, a2, rule, T0 + 20_000);
  change(writer, "updated", { ...a, status: 2, updated: T0 + 30_000 }, a3, rule, T0 + 30_000);
  assert.equal(notifyRows("A3").length, 6);
  // users are not told of the escalation
  assert.ok(notifyRows("A3").every((r) => r.p.audience !== "users" || r.p.transition === "raise"));
});

test("escalation after the principals' row went: no second message", () => {
  const { writer } = setup({ groups: [{ ...GROUP, delay: 0 }] });
  const rule = testRule({ recipient: "ops" });
  const a = testAlarm("A4", T0, { status: 1 });
  commitChange(db, writer, "created", a, { rule, now: T0 });
  const principals = notifyRows("A4").filter((r) => r.p.audience === "principals");
  // delay 0: everyone at once, no "still active" condition
  assert.ok(principals.every((r) => r.next_at === T0 && r.p.onlyIfActive === undefined));
  db.prepare("UPDATE outbox SET state = 'delivered' WHERE kind = 'notify'").run();
  change(writer, "updated", { ...a, status: 2, updated: T0 + 1000 }, a, rule, T0 + 1000);
  assert.equal(notifyRows("A4").filter((r) => r.p.transition === "escalate").length, 0);
});

test("maintenance, period OFF: nothing planned; a firing tells only its direct channels", () => {
  const { writer } = setup();
  const rule = testRule({ recipient: "ops", actions: { email: "oncall@example.com" } });
  commitChange(db, writer, "created", testAlarm("M1", T0, { suppressed: "maintenance" }), { rule, now: T0 });
  commitChange(db, writer, "created", testAlarm("O1", T0), { rule: { ...rule, off: true }, now: T0 });
  assert.equal(notifyRows("M1").length, 0);
  assert.equal(notifyRows("O1").length, 0);
  db.transaction(() =>
    writer.writeInTransaction([
      {
        kind: "created",
        alarm: testAlarm("F1", T0),
        previous: null,
        rule: { ...rule, actions: { alarm: false, email: "oncall@example.com" } },
        device: { id: "meter-01", product: "meter", status: "online", lastSeen: T0, values: {}, source: "mqtt" },
        cause: { by: "rule", remark: "" },
        now: T0,
        firing: true,
      },
    ]),
  )();
  assert.deepEqual(brief(notifyRows("F1")), ["raise direct email oncall@example.com"]);
});

test("unknown recipient group: alarm rows as always, the skip counted and logged once per rule", () => {
  const { writer, metrics, cap } = setup();
  const rule = testRule({ recipient: "nobody", actions: { email: "oncall@example.com" } });
  commitChange(db, writer, "created", testAlarm("U1", T0), { rule, now: T0 });
  commitChange(db, writer, "created", testAlarm("U2", T0 + 1), { rule, now: T0 + 1 });
  assert.deepEqual(brief(notifyRows("U1")), ["raise direct email oncall@example.com"]);
  const adds = db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alert.add'").get() as { n: number };
  assert.equal(adds.n, 2);
  assert.equal(metrics.counter("edge_notifications_skipped_total", "").get({ reason: "unknown-recipient" }), 2);
  const warnings = cap.lines.filter((l) => /recipient group "nobody"/.test(l.msg));
  assert.equal(warnings.length, 1);
});

test("a channel that is not configured is not planned, and counted", () => {
  const { writer, metrics } = setup({ channels: ["wecom"] });
  const rule = testRule({ recipient: "ops", actions: { email: "oncall@example.com", wechat: "duty1" } });
  commitChange(db, writer, "created", testAlarm("C1", T0), { rule, now: T0 });
  assert.deepEqual(brief(notifyRows("C1")), [
    "raise direct wecom duty1",
    "raise users wecom ann",
    "raise principals wecom boss",
  ]);
  // oncall + ann + bob + boss by e-mail, the robot
  assert.equal(metrics.counter("edge_notifications_skipped_total", "").get({ reason: "channel-not-configured" }), 5);
});

test("a hook channel (actions['channel:sms']) is planned on its own stream; test rows are the only droppable notify rows", () => {
  const { writer } = setup();
  const rule = testRule({ actions: { "channel:sms": "+420111, +420222" } as RuleActions });
  commitChange(db, writer, "created", testAlarm("S1", T0), { rule, now: T0 });
  assert.deepEqual(brief(notifyRows("S1")), ["raise direct channel:sms +420111", "raise direct channel:sms +420222"]);
  const repo = new OutboxRepo({ db });
  repo.insert({
    kind: "notify",
    stream: "n:|email|t",
    alarmId: null,
    payload: JSON.stringify({ alarmId: "", transition: "test", audience: "direct", channel: "email", to: "x@y" }),
    created: T0,
  });
  const r = db.transaction(() => repo.enforceBound(0, T0))();
  assert.equal(r.dropped, 1, "only the test message is dropped");
  assert.equal(notifyRows("S1").length, 2);
  const states = db.prepare("SELECT state FROM outbox WHERE kind = 'notify' AND alarm_id = 'S1'").all() as {
    state: string;
  }[];
  assert.ok(states.every((s) => s.state === "pending"));
});
