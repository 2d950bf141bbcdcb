import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Alarm } from "../../../src/core/types.js";
import { waitFor } from "../../helpers/wait.js";
import { committedAlarm, outboxRows, reading, rig, rule, tempDir } from "./setup.js";

const tmp = tempDir();
after(() => tmp.cleanup());
let n = 0;
const dbFile = () => join(tmp.dir, `t${++n}.db`);

test("a raised alarm is committed with its outbox row, and alarmCreated fires only after commit", async () => {
  const r = await rig(dbFile());
  const seen: { id: string; committed: boolean; outbox: number }[] = [];
  r.events.on("alarmCreated", (a) => {
    seen.push({
      id: a.id,
      committed: committedAlarm(r.reader, a.id) !== undefined,
      outbox: outboxRows(r.reader).length,
    });
  });
  const d = r.devices.device("meter-01");
  const ru = rule();
  r.svc.observe(ru, d, 2, reading(d, { voltage: 253.1 }));
  assert.equal(seen.length, 0, "nothing is emitted synchronously, before the commit");
  await waitFor(() => seen.length === 1, { what: "alarmCreated" });
  assert.deepEqual(seen[0], { id: seen[0]?.id, committed: true, outbox: 1 });
  const a = r.alarms.get(seen[0]?.id ?? "") as Alarm;
  assert.equal(a.status, 2);
  assert.equal(a.level, 4);
  assert.equal(a.ruleId, "overvoltage");
  assert.equal(a.title, "Over-voltage on incomer");
  assert.equal(a.message, "voltage 253.1 > 250 (Over-voltage on incomer)");
  assert.deepEqual(a.resource, { id: "meter-01", product: "meter", name: "Meter meter-01", areaId: 12 });
  assert.deepEqual(a.location, { building: "A" });
  assert.equal((a.details.facts as Record<string, unknown>).voltage, 253.1);
  assert.equal(a.upstreamId, null);
  assert.deepEqual(r.active, [["meter-01", true]]);
  const out = outboxRows(r.reader);
  assert.equal(out[0]?.kind, "alarm.created");
  assert.equal(out[0]?.alarm_id, a.id);
  await r.close();
});

test("escalation and de-escalation keep the id; resolve sets resolvedAt; one outbox row per change in order", async () => {
  const r = await rig(dbFile());
  const kinds: string[] = [];
  r.events.on("alarmCreated", (a) => kinds.push(`created:${a.status}`));
  r.events.on("alarmUpdated", (a) => kinds.push(`updated:${a.status}`));
  r.events.on("alarmResolved", (a) => kinds.push(`resolved:${a.status}`));
  const d = r.devices.device("m1");
  const ru = rule();
  r.svc.observe(ru, d, 1, reading(d, { voltage: 247 }));
  await r.svc.flush();
  r.clock.advance(1000);
  r.svc.observe(ru, d, 2, reading(d, { voltage: 252 }));
  await r.svc.flush();
  r.svc.observe(ru, d, 1, reading(d, { voltage: 246 }));
  r.svc.observe(ru, d, 0, reading(d, { voltage: 230 }));
  await r.svc.flush();
  assert.deepEqual(kinds, ["created:1", "updated:2", "updated:1", "resolved:0"]);
  const rows = outboxRows(r.reader);
  assert.deepEqual(
    rows.map((x) => x.kind),
    ["alarm.created", "alarm.updated", "alarm.updated", "alarm.resolved"],
  );
  assert.equal(new Set(rows.map((x) => x.alarm_id)).size, 1, "one alarm per episode");
  const a = r.alarms.get(rows[0]?.alarm_id ?? "") as Alarm;
  assert.equal(a.status, 0);
  assert.equal(a.resolvedAt, r.clock.now());
  assert.equal(a.created, r.clock.now() - 1000);
  assert.deepEqual(r.active, [
    ["m1", true],
    ["m1", false],
  ]);
  assert.equal(r.alarms.active().length, 0);
  await r.close();
});

test("a failing transaction commits nothing, emits nothing, keeps the batch and retries it in order", async () => {
  const r = await rig(dbFile());
  const events: string[] = [];
  r.events.on("alarmCreated", (a) => events.push(`created:${a.id}`));
  r.events.on("alarmResolved", (a) => events.push(`resolved:${a.id}`));
  r.sink.failing = Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
  const d = r.devices.device("m1");
  const ru = rule({ warnConditions: undefined } as unknown as Parameters<typeof rule>[0]);
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await assert.rejects(r.svc.flush(), (e: Error & { code?: string }) => e.code === "EA_DB");
  assert.equal(r.reader.prepare("SELECT count(*) AS n FROM alarms").pluck().get(), 0);
  assert.equal(outboxRows(r.reader).length, 0);
  assert.equal(events.length, 0);
  assert.deepEqual(r.active, []);
  // More changes while the disk is full join the kept batch.
  r.svc.observe(ru, d, 0, reading(d, { voltage: 230 }));
  r.clock.advance(100);
  assert.equal(events.length, 0, "the retry failed too");
  assert.equal(r.svc.pendingChanges, 2);
  r.sink.failing = null;
  r.clock.advance(200);
  assert.equal(r.svc.pendingChanges, 0);
  assert.equal(events.length, 2);
  assert.match(events[0] ?? "", /^created:/);
  assert.match(events[1] ?? "", /^resolved:/);
  assert.deepEqual(
    outboxRows(r.reader).map((x) => x.kind),
    ["alarm.created", "alarm.resolved"],
  );
  await r.close();
});

test("restart: the open alarm is the same active alarm and a persisting condition raises no second one", async () => {
  const file = dbFile();
  const r1 = await rig(file);
  const d1 = r1.devices.device("m1");
  const ru = rule({ for: 5 });
  r1.svc.observe(ru, d1, 2, reading(d1, { voltage: 260 }));
  r1.clock.advance(5000);
  r1.svc.observe(ru, d1, 2, reading(d1, { voltage: 260 }));
  await r1.svc.flush();
  const [open] = r1.alarms.active();
  assert.ok(open);
  await r1.close();

  const r2 = await rig(file);
  assert.deepEqual(r2.active, [["m1", true]], "the device is in alarm from the start");
  assert.deepEqual(
    r2.alarms.active().map((a) => a.id),
    [open.id],
  );
  const created: string[] = [];
  r2.events.on("alarmCreated", (a) => created.push(a.id));
  const d2 = r2.devices.device("m1");
  for (let i = 0; i < 10; i++) {
    r2.clock.advance(1000);
    r2.svc.observe(ru, d2, 2, reading(d2, { voltage: 260 }));
  }
  await r2.svc.flush();
  assert.deepEqual(created, []);
  assert.equal(r2.reader.prepare("SELECT count(*) FROM alarms").pluck().get(), 1);
  const resolved: string[] = [];
  r2.events.on("alarmResolved", (a) => resolved.push(a.id));
  r2.svc.observe(ru, d2, 0, reading(d2, { voltage: 230 }));
  await r2.svc.flush();
  assert.deepEqual(resolved, [open.id]);
  await r2.close();
});

test("operator resolve commits, flows through the sink, and the condition must clear before a new episode", async () => {
  const r = await rig(dbFile());
  const d = r.devices.device("m1");
  const ru = rule();
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  const [a] = r.alarms.active();
  assert.ok(a);
  assert.equal(await r.svc.resolve("nope", "alice", "x"), null);
  const res = await r.svc.resolve(a.id, "alice", "breaker reset by hand");
  assert.equal(res?.status, 0);
  assert.equal(committedAlarm(r.reader, a.id)?.status, 0, "committed when the promise resolves");
  const last = outboxRows(r.reader).at(-1);
  assert.deepEqual(JSON.parse(last?.payload ?? "{}").cause, { by: "operator", remark: "breaker reset by hand" });
  assert.deepEqual(((r.alarms.get(a.id) as Alarm).details.resolution as Record<string, unknown>).operator, "alice");
  assert.equal(await r.svc.resolve(a.id, "alice", "again"), null, "already resolved");
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  assert.equal(r.alarms.active().length, 0, "still true: no new alarm until it clears");
  r.svc.observe(ru, d, 0, reading(d, { voltage: 230 }));
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  const [b] = r.alarms.active();
  assert.ok(b && b.id !== a.id && b.id > a.id);
  await r.close();
});

test("rulesChanged resolves the open alarms of removed rules, not quota alarms", async () => {
  const r = await rig(dbFile());
  const d = r.devices.device("m1");
  const kept = rule({ id: "kept" });
  const gone = rule({ id: "gone" });
  const quota = { ...rule({ id: "quota:q1" }), file: "quota:q1" };
  for (const ru of [kept, gone, quota]) r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  assert.equal(r.alarms.active().length, 3);
  r.svc.rulesChanged([kept]);
  await r.svc.flush();
  assert.deepEqual(
    r.alarms
      .active()
      .map((a) => a.ruleId)
      .sort(),
    ["kept", "quota:q1"],
  );
  const removed = r.alarms.list({ status: 0 }).alarms[0];
  assert.equal(removed?.ruleId, "gone");
  assert.deepEqual(((removed as Alarm).details.resolution as { remark: string }).remark, "rule removed");
  // Edited to another device: the open alarm of the device it no longer watches is closed.
  const other = r.devices.device("m2");
  r.svc.observe(kept, other, 2, reading(other, { voltage: 260 }));
  await r.svc.flush();
  r.svc.rulesChanged([rule({ id: "kept", did: "m2" })]);
  await r.svc.flush();
  assert.deepEqual(
    r.alarms
      .active()
      .map((a) => `${a.ruleId}/${a.resource.id}`)
      .sort(),
    ["kept/m2", "quota:q1/m1"],
  );
  await r.close();
});

test("an operator resolve racing an automatic one answers with the committed resolve", async () => {
  const r = await rig(dbFile());
  const d = r.devices.device("m1");
  const ru = rule();
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  const [a] = r.alarms.active();
  assert.ok(a);
  r.svc.observe(ru, d, 0, reading(d, { voltage: 230 }));
  const res = await r.svc.resolve(a.id, "alice", "late");
  assert.equal(res?.id, a.id);
  assert.equal(res?.status, 0);
  assert.equal(committedAlarm(r.reader, a.id)?.status, 0);
  assert.equal(((res as Alarm).details.resolution as { by: string }).by, "rule");
  await r.close();
});

test("a change the outbox writer rejects is kept and retried without holding back other alarms", async () => {
  const r = await rig(dbFile());
  const events: string[] = [];
  r.events.on("alarmCreated", (a) => events.push(`created:${a.resource.id}`));
  r.events.on("alarmResolved", (a) => events.push(`resolved:${a.resource.id}`));
  r.sink.rejects = (c) => c.alarm.resource.id === "bad";
  const ru = rule();
  const bad = r.devices.device("bad");
  const good = r.devices.device("good");
  r.svc.observe(ru, bad, 2, reading(bad, { voltage: 260 }));
  r.svc.observe(ru, good, 2, reading(good, { voltage: 260 }));
  r.svc.observe(ru, bad, 0, reading(bad, { voltage: 230 }));
  await assert.rejects(r.svc.flush());
  assert.deepEqual(events, ["created:good"]);
  assert.equal(r.svc.pendingChanges, 2, "the bad create and its resolve, in order");
  assert.deepEqual(
    r.alarms.active().map((a) => a.resource.id),
    ["good"],
  );
  r.sink.rejects = null;
  r.clock.advance(100);
  assert.deepEqual(events, ["created:good", "created:bad", "resolved:bad"]);
  assert.equal(r.svc.pendingChanges, 0);
  await r.close();
});

test("batching: changes wait for batchMaxDelayMs on the clock, or commit at once when 500 are pending", async () => {
  const r = await rig(dbFile(), { batchMaxDelayMs: 5 });
  let created = 0;
  r.events.on("alarmCreated", () => created++);
  const ru = rule();
  const timers = r.clock.pendingTimers();
  for (let i = 0; i < 10; i++) {
    const d = r.devices.device(`d${i}`);
    r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  }
  // the ten wait in the commit queue for one timer on the (manual) clock, not for the event loop
  assert.equal(r.svc.pendingChanges, 10);
  assert.equal(r.clock.pendingTimers(), timers + 1, "one batch timer");
  assert.equal(created, 0, "the window has not elapsed");
  r.clock.advance(4);
  assert.equal(created, 0);
  r.clock.advance(1);
  assert.equal(created, 10, "one commit for the ten");
  for (let i = 0; i < 500; i++) {
    const d = r.devices.device(`e${i}`);
    r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  }
  await Promise.resolve();
  assert.equal(created, 510, "a full batch does not wait for the timer");
  await r.close();
});

test("a device is in alarm while any of its alarms is open", async () => {
  const r = await rig(dbFile());
  const d = r.devices.device("m1");
  const a = rule({ id: "a" });
  const b = rule({ id: "b" });
  r.svc.observe(a, d, 2, reading(d, { voltage: 260 }));
  r.svc.observe(b, d, 1, reading(d, { voltage: 247 }));
  await r.svc.flush();
  r.svc.observe(a, d, 0, reading(d, { voltage: 230 }));
  await r.svc.flush();
  assert.deepEqual(r.active, [["m1", true]]);
  r.svc.observe(b, d, 0, reading(d, { voltage: 230 }));
  await r.svc.flush();
  assert.deepEqual(r.active, [
    ["m1", true],
    ["m1", false],
  ]);
  await r.close();
});
