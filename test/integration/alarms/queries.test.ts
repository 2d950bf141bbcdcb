import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Rig, reading, rig, rule, tempDir } from "./setup.js";

const tmp = tempDir();
let r: Rig;
const ids: string[] = [];

before(async () => {
  r = await rig(join(tmp.dir, "q.db"));
  // m1: overvoltage (4) active; m2: overvoltage resolved, then undervoltage (2) pre-warning; m3: 100% off-by-percent
  const over = rule();
  const under = rule({ id: "undervoltage", name: "undervoltage", title: "Under-voltage", level: 2 });
  const m1 = r.devices.device("m1");
  const m2 = r.devices.device("m2");
  const m3 = r.devices.device("m3");
  r.svc.observe(over, m2, 2, reading(m2, { voltage: 260 }));
  await r.svc.flush();
  r.clock.advance(1000);
  r.svc.observe(over, m2, 0, reading(m2, { voltage: 230 }));
  r.svc.observe(over, m1, 2, reading(m1, { voltage: 255 }));
  await r.svc.flush();
  r.clock.advance(1000);
  r.svc.observe(under, m2, 1, reading(m2, { voltage: 200 }));
  await r.svc.flush();
  r.clock.advance(1000);
  r.svc.observe(
    rule({ id: "pct", name: "load_100%_", title: "Load 100%_", message: "Load at 100%" }),
    m3,
    2,
    reading(m3, { voltage: 1 }),
  );
  await r.svc.flush();
  ids.push(...r.alarms.list({ order: "asc", limit: 100 }).alarms.map((a) => a.id));
});
after(async () => {
  await r.close();
  tmp.cleanup();
});

test("defaults as on the platform: oldest first (asc by created), everything", () => {
  const res = r.alarms.list({});
  assert.equal(res.total, 4);
  assert.deepEqual(
    res.alarms.map((a) => a.id),
    ids,
  );
  assert.deepEqual(
    r.alarms.list({ order: "desc" }).alarms.map((a) => a.id),
    [...ids].reverse(),
  );
});

test("status filters: active, resolved, pre-warning", () => {
  assert.equal(r.alarms.list({ status: "active" }).total, 3);
  assert.deepEqual(
    r.alarms.list({ status: 0 }).alarms.map((a) => a.resource.id),
    ["m2"],
  );
  assert.deepEqual(
    r.alarms.list({ status: 1 }).alarms.map((a) => a.ruleId),
    ["undervoltage"],
  );
  assert.equal(r.alarms.list({ status: "all" }).total, 4);
  assert.equal(r.alarms.active().length, 3);
});

test("did, free text (LIKE wildcards are literal) and paging", () => {
  assert.equal(r.alarms.list({ did: "m2" }).total, 2);
  assert.equal(r.alarms.list({ q: "Under" }).total, 1);
  assert.equal(r.alarms.list({ q: "m1" }).total, 0, "q searches name, title and message; did is the device filter");
  assert.equal(r.alarms.list({ q: "253" }).total, 0);
  assert.equal(r.alarms.list({ q: "voltage 255" }).total, 1, "message");
  assert.equal(r.alarms.list({ q: "100%" }).total, 1);
  assert.equal(r.alarms.list({ q: "%" }).total, 1, "a % matches only a literal %");
  assert.equal(r.alarms.list({ q: "_" }).total, 1);
  const page = r.alarms.list({ order: "asc", offset: 1, limit: 2 });
  assert.equal(page.total, 4);
  assert.deepEqual(
    page.alarms.map((a) => a.id),
    ids.slice(1, 3),
  );
  assert.equal(r.alarms.list({ limit: 0 }).alarms.length, 0);
});

test("key filters by product; every sortable field of the platform sorts", () => {
  const pump = rule({ id: "dry", name: "dryrun", key: "pump", title: "Pump dry" });
  const p1 = r.devices.device("p1");
  p1.product = "pump";
  assert.equal(r.alarms.list({ key: "pump" }).total, 0);
  r.svc.observe(pump, p1, 2, reading(p1, { voltage: 1 }));
  return r.svc.flush().then(() => {
    assert.deepEqual(
      r.alarms.list({ key: "pump" }).alarms.map((a) => a.resource.id),
      ["p1"],
    );
    assert.equal(r.alarms.list({ key: "meter" }).total, 4);
    assert.deepEqual(
      r.alarms.list({ key: "meter", orderBy: "name" }).alarms.map((a) => a.name),
      ["load_100%_", "overvoltage", "overvoltage", "undervoltage"],
    );
    assert.deepEqual(
      r.alarms.list({ key: "meter", orderBy: "title", order: "desc" }).alarms.map((a) => a.title),
      ["Under-voltage", "Over-voltage on incomer", "Over-voltage on incomer", "Load 100%_"],
    );
    assert.equal(r.alarms.list({ key: "meter", orderBy: "message" }).alarms[0]?.message, "Load at 100%");
    for (const f of ["period", "type", "updated"] as const) assert.equal(r.alarms.list({ orderBy: f }).total, 5);
  });
});

test("orderBy level and status", () => {
  assert.deepEqual(
    r.alarms.list({ key: "meter", orderBy: "level", order: "asc" }).alarms.map((a) => a.level),
    [2, 4, 4, 4],
  );
  assert.deepEqual(
    r.alarms.list({ key: "meter", orderBy: "status", order: "desc" }).alarms.map((a) => a.status),
    [2, 2, 1, 0],
  );
});
