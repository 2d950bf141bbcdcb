// /alert/* in the platform's shapes, over the real alarm service, outbox and dispatcher delivering
// to the fake platform: list filters, manual alarms, operator updates and deletes, unknown ids.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { AlarmShape } from "../../../src/alarms/shape.js";
import type { CompiledRule } from "../../../src/core/ports.js";
import { COMPLETE, CREATE, type PlatformRig, platformRig, platformRule } from "../alarms/platform-rig.js";
import { reading } from "../alarms/setup.js";
import { type Harness, startHarness } from "./fixtures.js";

let r: PlatformRig;
let api: Harness;

before(async () => {
  r = await platformRig();
  api = await startHarness({ alarms: r.alarms, tracker: r.svc, clock: r.h.clock });
  const over = { def: platformRule(r.up, { actions: {} }), file: "rules/a.json", level: () => 0 } as CompiledRule;
  const dry = {
    def: platformRule(r.up, { id: "dry", name: "dryrun", title: "Pump running dry", key: "pump", actions: {} }),
    file: "rules/b.json",
    level: () => 0,
  } as CompiledRule;
  const m1 = r.devices.device("m1");
  const m2 = r.devices.device("m2");
  const p1 = r.devices.device("p1");
  p1.product = "pump";
  r.svc.observe(over, m1, 2, reading(m1, { voltage: 260 }));
  r.h.clock.advance(1000);
  r.svc.observe(dry, p1, 2, reading(p1, { voltage: 1 }));
  r.h.clock.advance(1000);
  r.svc.observe(over, m2, 2, reading(m2, { voltage: 270 }));
  r.h.clock.advance(1000);
  r.svc.observe(over, m2, 0, reading(m2, { voltage: 230 }));
  await r.settle();
});
after(async () => {
  await api.api.stop();
  await r.close();
});

async function json<T>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const x = await res;
  return { status: x.status, body: (await x.json()) as T };
}
type List = { total: number; offset: number; limit: number; alerts: AlarmShape[] };

test("/alert/list: platform defaults (asc, limit 100), key, did, q, status, orderBy, paging", async () => {
  const all = await json<List>(api.get("/alert/list"));
  assert.equal(all.status, 200);
  assert.equal(all.body.total, 3);
  assert.equal(all.body.offset, 0);
  assert.equal(all.body.limit, 100);
  assert.deepEqual(
    all.body.alerts.map((a) => a.device.id),
    ["m1", "p1", "m2"],
    "oldest first",
  );
  for (const a of all.body.alerts) {
    assert.deepEqual(a.device, a.resource);
    assert.equal(a.origin, "rule");
    assert.equal(a.recurrences, 0);
  }
  const key = await json<List>(api.get("/alert/list?key=pump"));
  assert.deepEqual(
    key.body.alerts.map((a) => a.device.id),
    ["p1"],
  );
  assert.equal((await json<List>(api.get("/alert/list?key=meter&did=m2"))).body.total, 1);
  assert.equal((await json<List>(api.get("/alert/list?q=running%20dry"))).body.total, 1);
  assert.equal((await json<List>(api.get("/alert/list?status=0"))).body.alerts[0]?.device.id, "m2");
  const byName = await json<List>(api.get("/alert/list?orderBy=name&order=desc"));
  assert.deepEqual(
    byName.body.alerts.map((a) => a.name),
    ["overvoltage", "overvoltage", "dryrun"],
  );
  const page = await json<List>(api.get("/alert/list?offset=1&limit=1&order=desc"));
  assert.deepEqual(
    [page.body.total, page.body.offset, page.body.limit, page.body.alerts.map((a) => a.device.id)],
    [3, 1, 1, ["p1"]],
  );
  for (const f of ["created", "level", "message", "name", "period", "status", "title", "type", "updated"]) {
    assert.equal((await api.get(`/alert/list?orderBy=${f}`)).status, 200, f);
  }
  const bad = await json<{ code: number; field: string }>(api.get("/alert/list?orderBy=ruleId"));
  assert.deepEqual([bad.status, bad.body.code, bad.body.field], [400, 104001, "orderBy"]);
});

test("/alert/get and /alert/del of an unknown id: 104004 with a message", async () => {
  const g = await json<{ code: number; message: string }>(api.get("/alert/get?id=nope"));
  assert.deepEqual([g.status, g.body.code, g.body.message], [404, 104004, "No alarm with id nope"]);
  const d = await json<{ code: number; message: string }>(api.post("/alert/del", { id: "nope" }));
  assert.deepEqual([d.status, d.body.code], [404, 104004]);
  const u = await json<{ code: number }>(api.post("/alert/update", { id: "nope", status: 0 }));
  assert.deepEqual([u.status, u.body.code], [404, 104004]);
});

test("/alert/add: an operator's manual alarm, stored with origin operator, sent upstream, with a work order", async () => {
  const miss = await json<{ code: number; field: string; message: string }>(api.post("/alert/add", { level: 3 }));
  assert.deepEqual([miss.status, miss.body.code, miss.body.field], [400, 104001, "name"]);
  assert.match(miss.body.message, /name/);
  r.devices.device("meter-01");
  const add = await json<AlarmShape>(
    api.post("/alert/add", {
      name: "smoke",
      title: "Smoke seen in cabinet 3",
      level: "critical",
      device: { id: "meter-01" },
      details: { seenBy: "night shift" },
      workOrder: true,
    }),
  );
  assert.equal(add.status, 200);
  assert.equal(add.body.origin, "operator");
  assert.equal(add.body.level, 4);
  assert.equal(add.body.status, 2);
  assert.equal(add.body.device.id, "meter-01");
  assert.equal(add.body.device.product, "meter");
  await r.settle();
  const sent = r.up.paths("/alert/add").find((x) => (x.json as { id: string }).id === add.body.id);
  assert.ok(sent, "sent upstream");
  assert.equal((sent.json as { name: string }).name, "smoke");
  const order = r.up.paths(CREATE).find((x) => (JSON.parse(x.body) as { alarmId: string }).alarmId === add.body.id);
  assert.ok(order, "work order asked for by the request");
  const got = await json<AlarmShape>(api.get(`/alert/get?id=${add.body.id}`));
  assert.equal(got.body.origin, "operator");
  assert.deepEqual(got.body.details, { seenBy: "night shift" });
});

test("/alert/update: operator changes and resolve flow upstream and complete the work order; /alert/del", async () => {
  const add = await json<AlarmShape>(
    api.post("/alert/add", { name: "leak", device: "m1", workOrder: { priority: 0 } }),
  );
  await r.settle();
  const del = await json<{ code: number; message: string }>(api.post("/alert/del", { id: add.body.id }));
  assert.deepEqual([del.status, del.body.code], [400, 104001]);
  assert.match(del.body.message, /is active.*resolve it first/);

  const changed = await json<AlarmShape>(
    api.post("/alert/update", { id: add.body.id, name: "leak", title: "Leak, bay 2", level: 5 }),
  );
  assert.equal(changed.status, 200);
  assert.deepEqual([changed.body.title, changed.body.level, changed.body.status], ["Leak, bay 2", 5, 2]);
  const resolved = await json<AlarmShape>(api.post("/alert/update", { id: add.body.id, status: 0, remark: "fixed" }));
  assert.equal(resolved.body.status, 0);
  await r.settle();
  const updates = r.up.paths("/alert/update").map((x) => x.json as { status: number; title?: string; level: number });
  assert.ok(
    updates.some((u) => u.title === "Leak, bay 2" && u.level === 5 && u.status === 2),
    "the change went upstream",
  );
  assert.ok(
    updates.some((u) => u.status === 0 && u.level === 5),
    "the resolve went upstream",
  );
  assert.equal(r.up.paths(COMPLETE).length, 1, "the work order was completed like an automatic resolve");

  const again = await json<{ code: number }>(api.post("/alert/update", { id: add.body.id, status: 0 }));
  assert.deepEqual([again.status, again.body.code], [409, 104009]);
  const ok = await json<AlarmShape>(api.post("/alert/del", { id: add.body.id }));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.id, add.body.id);
  assert.equal((await api.get(`/alert/get?id=${add.body.id}`)).status, 404);
});

test("/alert/get and /status show silenced repeats", async () => {
  const rule = {
    def: platformRule(r.up, { id: "rep", period: 3600, actions: {} }),
    file: "x",
    level: () => 0,
  } as CompiledRule;
  const d = r.devices.device("m9");
  for (let i = 0; i < 3; i++) {
    r.svc.observe(rule, d, 2, reading(d, { voltage: 260 }));
    r.svc.observe(rule, d, 0, reading(d, { voltage: 230 }));
    r.h.clock.advance(1000);
  }
  await r.settle();
  const list = await json<List>(api.get("/alert/list?did=m9"));
  assert.equal(list.body.alerts[0]?.recurrences, 2);
  const got = await json<AlarmShape>(api.get(`/alert/get?id=${list.body.alerts[0]?.id}`));
  assert.equal(got.body.recurrences, 2);
  assert.equal(typeof got.body.lastRecurrence, "number");
  // The status page reads /status: the recurring list is there although the alarm is resolved.
  const status = await json<{ data: { alarms: { recurring: AlarmShape[] } } }>(api.get("/status"));
  assert.ok(status.body.data.alarms.recurring.some((a) => a.device.id === "m9" && a.recurrences === 2));
});
