import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { OutboxWriter } from "../../../src/store/outbox-writer.js";
import { commitChange, testAlarm, testRule } from "../../helpers/upstream.js";

let dir: string;
let db: Db;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "outbox-writer-"));
  db = openDatabase(join(dir, "edge-agent.db"));
});
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const WO = { enabled: true, baseUrl: "http://127.0.0.1:1", appId: "edge", appSecret: "secret-1", tenantId: "1" };
const rows = (alarmId: string) =>
  db.prepare("SELECT kind, class, stream, payload FROM outbox WHERE alarm_id = ? ORDER BY seq").all(alarmId) as {
    kind: string;
    class: string;
    stream: string;
    payload: string;
  }[];

test("raise → add (+ work order, + webhook); escalate → update; resolve → update status 0 + complete", () => {
  const w = new OutboxWriter({ db, workOrders: WO });
  const rule = testRule({ actions: { workOrder: { priority: 1 }, webhook: "http://127.0.0.1:1/hook" } });
  const a = testAlarm("A1", 1000, { status: 1 });
  commitChange(db, w, "created", a, { rule });
  commitChange(db, w, "updated", { ...a, status: 2, level: 5, updated: 2000 }, { rule });
  commitChange(db, w, "resolved", { ...a, status: 0, updated: 3000, resolvedAt: 3000 }, { rule });
  const r = rows("A1");
  assert.deepEqual(
    r.map((x) => [x.kind, x.class, x.stream]),
    [
      ["alert.add", "alarm", "a:A1"],
      ["workorder.create", "workorder", "w:A1"],
      ["webhook", "notification", "h:A1"],
      ["alert.update", "alarm", "a:A1"],
      ["alert.update", "alarm", "a:A1"],
      ["workorder.complete", "workorder", "w:A1"],
      ["webhook", "notification", "h:A1"],
    ],
  );
  const add = JSON.parse(r[0]!.payload);
  assert.deepEqual(Object.keys(add).sort(), [
    "created",
    "details",
    "device",
    "id",
    "level",
    "location",
    "message",
    "name",
    "ruleId",
    "status",
    "title",
  ]);
  assert.equal(add.id, "A1");
  assert.deepEqual(JSON.parse(r[3]!.payload), { name: "overvoltage", status: 2, level: 5, updated: 2000 });
  assert.deepEqual(JSON.parse(r[4]!.payload), { name: "overvoltage", status: 0, level: 4, updated: 3000 });
  assert.match(JSON.parse(r[5]!.payload).remark, /voltage back to 231 V/);
});

test("no work-order rows when work orders are disabled or the rule has none; no completion without a create", () => {
  const off = new OutboxWriter({ db, workOrders: { ...WO, enabled: false } });
  const rule = testRule({ actions: { workOrder: {} } });
  commitChange(db, off, "created", testAlarm("B1", 1000), { rule });
  const on = new OutboxWriter({ db, workOrders: WO });
  commitChange(db, on, "resolved", testAlarm("B1", 1000, { status: 0 }), { rule });
  assert.deepEqual(
    rows("B1").map((x) => x.kind),
    ["alert.add", "alert.update"],
  );
});

test("period: the raise's webhook is written (the service silences repeats); a resolve within the period has none", () => {
  const w = new OutboxWriter({ db });
  const rule = testRule({ id: "r-period", period: 60, actions: { webhook: "http://127.0.0.1:1/h" } });
  commitChange(db, w, "created", testAlarm("C1", 10_000, { ruleId: "r-period" }), { rule, now: 10_000 });
  commitChange(db, w, "resolved", testAlarm("C1", 10_000, { ruleId: "r-period", status: 0 }), { rule, now: 20_000 });
  commitChange(db, w, "created", testAlarm("C2", 71_000, { ruleId: "r-period" }), { rule, now: 71_000 });
  commitChange(db, w, "resolved", testAlarm("C2", 71_000, { ruleId: "r-period", status: 0 }), { rule, now: 140_000 });
  const hooks = db
    .prepare("SELECT alarm_id, payload FROM outbox WHERE kind = 'webhook' AND alarm_id LIKE 'C%' ORDER BY seq")
    .all() as { alarm_id: string; payload: string }[];
  assert.deepEqual(
    hooks.map((h) => [h.alarm_id, JSON.parse(h.payload).alarm.status]),
    [
      ["C1", 2],
      ["C2", 2],
      ["C2", 0],
    ],
  );
});

test("period OFF: the alarm is sent (add, update), no work order and no webhook", () => {
  const w = new OutboxWriter({ db, workOrders: WO });
  const rule = testRule({ id: "r-off", off: true, actions: { workOrder: {}, webhook: "http://127.0.0.1:1/h" } });
  commitChange(db, w, "created", testAlarm("E1", 1000, { ruleId: "r-off" }), { rule });
  commitChange(db, w, "resolved", testAlarm("E1", 1000, { ruleId: "r-off", status: 0 }), { rule, now: 5000 });
  assert.deepEqual(
    rows("E1").map((x) => x.kind),
    ["alert.add", "alert.update"],
  );
});

test("a firing (actions.alarm false): work order and webhook, no alert rows", () => {
  const w = new OutboxWriter({ db, workOrders: WO });
  const rule = testRule({ id: "r-fire", actions: { alarm: false, workOrder: {}, webhook: "http://127.0.0.1:1/h" } });
  const f = testAlarm("F1", 1000, { ruleId: "r-fire" });
  db.transaction(() => {
    const base = { rule, device: {} as never, cause: { by: "rule", remark: "cleared" }, firing: true };
    w.writeInTransaction([{ ...base, kind: "created", alarm: f, previous: null, now: 1000 }]);
    w.writeInTransaction([{ ...base, kind: "updated", alarm: { ...f, status: 1 }, previous: f, now: 1500 }]);
    w.writeInTransaction([{ ...base, kind: "resolved", alarm: { ...f, status: 0 }, previous: f, now: 2000 }]);
  })();
  assert.deepEqual(
    rows("F1").map((x) => x.stream),
    ["w:F1", "h:F1", "w:F1", "h:F1"],
  );
  assert.deepEqual(
    rows("F1").map((x) => x.kind),
    ["workorder.create", "webhook", "workorder.complete", "webhook"],
  );
});

test("rows roll back with the alarm transaction", () => {
  const w = new OutboxWriter({ db });
  const before = (db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n;
  assert.throws(() =>
    db.transaction(() => {
      w.writeInTransaction([
        {
          kind: "created",
          alarm: testAlarm("D1", 1),
          previous: null,
          rule: testRule(),
          device: {} as never,
          cause: { by: "rule", remark: "" },
          now: 1,
        },
      ]);
      throw new Error("alarm write failed");
    })(),
  );
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n, before);
});
