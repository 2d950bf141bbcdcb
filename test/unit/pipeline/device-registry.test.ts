// The device registry's status model and its keys: every device starts `unknown`, its first verdict is
// an event, ids such as `constructor` are ordinary ids (the config metadata is read through own
// properties only). The /status summary is tested in device-page.test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { OpenAlarms } from "../../../src/alarms/open-alarms.js";
import type { DeviceState } from "../../../src/core/types.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { testBus } from "../../helpers/harness.js";

test("unknown first; the first verdict and every later change are events", () => {
  const events = testBus();
  const seen: string[] = [];
  events.on("deviceStatusChanged", (d, from, to) => seen.push(`${d.id}:${from}->${to}`));
  const open = new OpenAlarms();
  const reg = new DeviceRegistry({ meta: { m: { maintenance: true } }, events, alarms: open });
  reg.declare({ id: "a", product: "meter" }, "modbus");
  reg.declare({ id: "b", product: "meter" }, "modbus");
  reg.declare({ id: "m", product: "meter" }, "modbus");
  assert.deepEqual(
    reg.list().map((d) => d.status),
    ["unknown", "unknown", "maintenance"],
  );
  reg.setReachable("a", false);
  reg.markSeen(reg.get("b") as DeviceState, 1);
  open.add("b", 1);
  reg.setReachable("a", true);
  reg.setMaintenance("m", false);
  assert.deepEqual(seen, [
    "a:unknown->offline",
    "b:unknown->online",
    "b:online->alarm",
    "a:offline->online",
    "m:maintenance->unknown",
  ]);
});

test("ids from outside are ordinary: constructor, __proto__, toString; the MQTT device bound", () => {
  const reg = new DeviceRegistry({ meta: {}, events: testBus() });
  for (const id of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const slot = reg.slotFor(id, "meter", "mqtt", 10);
    assert.ok(slot);
    assert.deepEqual([slot.state.id, slot.state.name, slot.state.product], [id, undefined, "meter"]);
    assert.equal(reg.get(id), slot.state);
  }
  assert.equal(reg.slotFor("x1", "meter", "mqtt", 4), null, "a new MQTT device past the bound");
  assert.ok(reg.slotFor("constructor", "meter", "mqtt", 4), "a known one is still there");
  assert.ok(reg.slotFor("x1", "meter", "modbus", 4), "the bound is for devices MQTT creates");
  assert.equal(reg.discovered, 4);
});
