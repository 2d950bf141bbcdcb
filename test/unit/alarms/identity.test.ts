import assert from "node:assert/strict";
import { test } from "node:test";
import { applyHookChanges } from "../../../src/alarms/identity.js";
import type { Alarm } from "../../../src/core/types.js";
import { sampleAlarm } from "../../fixtures/hooks/harness.js";

const original = (): Alarm => sampleAlarm({ id: "01J0000000000000000000000A" });

test("a hook may reword and re-grade an alarm: name, title, message, type, level, resource, location, details, period", () => {
  const a = original();
  const out = applyHookChanges(a, {
    ...a,
    name: "ov",
    title: "Changed",
    message: "m",
    type: "custom",
    level: 5,
    resource: { id: "meter-01", product: "meter", site: "A" },
    location: { room: "B1" },
    details: { voltage: 260, note: "checked" },
    period: 60,
  });
  assert.deepEqual(out, {
    ...a,
    name: "ov",
    title: "Changed",
    message: "m",
    type: "custom",
    level: 5,
    resource: { id: "meter-01", product: "meter", site: "A" },
    location: { room: "B1" },
    details: { voltage: 260, note: "checked" },
    period: 60,
  });
});

test("identity, status, timestamps and upstream links stay the agent's", () => {
  const a = original();
  const out = applyHookChanges(a, {
    ...a,
    id: "hijack",
    ruleId: "r-2",
    status: 0,
    created: 1,
    updated: 2,
    resolvedAt: 3,
    upstreamId: "u-1",
    workOrderId: "9",
    resource: { id: "meter-99", product: "meter" },
  });
  assert.deepEqual(out, a);
});

test("values of the wrong type keep the original; null location is allowed", () => {
  const a = { ...original(), location: { room: "B1" } };
  const out = applyHookChanges(a, {
    title: 42,
    level: 9,
    details: [1, 2],
    resource: "x",
    period: -1,
    location: null,
  });
  assert.equal(out.title, a.title);
  assert.equal(out.level, a.level);
  assert.deepEqual(out.details, a.details);
  assert.deepEqual(out.resource, a.resource);
  assert.equal(out.period, a.period);
  assert.equal(out.location, null);
  assert.equal(applyHookChanges(a, { level: 2.5 }).level, a.level, "a level is an integer 0–5");
});

test("what cannot be stored, or is not an alarm, leaves the alarm as it was", () => {
  const a = original();
  const cyclic: Record<string, unknown> = { ...a, title: "cyclic" };
  cyclic.self = cyclic;
  assert.equal(applyHookChanges(a, cyclic), a);
  assert.equal(applyHookChanges(a, { ...a, details: { n: 1n } }), a);
  assert.equal(applyHookChanges(a, null), a);
  assert.equal(applyHookChanges(a, "alarm"), a);
  assert.equal(applyHookChanges(a, [a]), a);
});

test("the result shares no changeable object with the hook's answer (it is what gets stored)", () => {
  const a = original();
  const changed = { ...a, details: { voltage: 261, at: new Date(0) } };
  const out = applyHookChanges(a, changed);
  assert.notEqual(out.details, changed.details);
  changed.details.voltage = 999;
  assert.deepEqual(out.details, { voltage: 261, at: "1970-01-01T00:00:00.000Z" });
});
