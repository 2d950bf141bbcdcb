// The device registry's status model and its keys: every device starts `unknown`, its first verdict is
// an event, ids such as `constructor` are ordinary ids (the config metadata is read through own
// properties only), maintenance (config: always on; run time: switched by request), and a status
// interceptor that applies, rewrites or vetoes changes, one device's changes in order.
// The /status summary is tested in device-page.test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { OpenAlarms } from "../../../src/alarms/open-alarms.js";
import type { DeviceStatusChange, DeviceStatusInterceptor, DeviceStatusVerdict } from "../../../src/core/ports.js";
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
  reg.setReachable("m", true);
  assert.deepEqual(seen, ["a:unknown->offline", "b:unknown->online", "b:online->alarm", "a:offline->online"]);
  assert.equal(reg.get("m")?.status, "maintenance", "config maintenance wins over reachability");
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

/** A beforeDeviceStatus stand-in: each change waits until the test answers it. */
class FakeInterceptor implements DeviceStatusInterceptor {
  active = true;
  readonly asked: DeviceStatusChange[] = [];
  readonly #answers: ((v: DeviceStatusVerdict | Error) => void)[] = [];
  beforeDeviceStatus(change: DeviceStatusChange): Promise<DeviceStatusVerdict> {
    this.asked.push(change);
    return new Promise((resolve, reject) => {
      this.#answers.push((v) => (v instanceof Error ? reject(v) : resolve(v)));
    });
  }
  /** Answers the oldest open question. */
  answer(v: DeviceStatusVerdict | Error): void {
    const next = this.#answers.shift();
    assert.ok(next, "a change was offered");
    next(v);
  }
  get open(): number {
    return this.#answers.length;
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function withInterceptor() {
  const events = testBus();
  const seen: string[] = [];
  const reasons: string[] = [];
  const reg = new DeviceRegistry({ meta: { cfg: { maintenance: true } }, events });
  events.on("deviceStatusChanged", (d, from, to) => {
    seen.push(`${d.id}:${from}->${to}`);
    reasons.push(reg.changeReason ?? "");
  });
  reg.declare({ id: "a", product: "meter" }, "modbus");
  reg.declare({ id: "cfg", product: "meter" }, "modbus");
  const ic = new FakeInterceptor();
  reg.interceptStatus(ic);
  return { reg, ic, seen, reasons };
}

test("run-time maintenance: on and off are events with their reason; config maintenance cannot be switched off", async () => {
  const events = testBus();
  const seen: string[] = [];
  const reg = new DeviceRegistry({ meta: { cfg: { maintenance: true } }, events });
  events.on("deviceStatusChanged", (d, from, to) => seen.push(`${d.id}:${from}->${to}:${reg.changeReason}`));
  reg.declare({ id: "a", product: "meter" }, "modbus");
  reg.declare({ id: "cfg", product: "meter" }, "modbus");
  reg.setReachable("a", true, "first poll succeeded");
  const on = await reg.requestMaintenance("a", true, "maintenance on: panel work");
  assert.deepEqual(on, { applied: true, status: "maintenance", reason: "maintenance on: panel work" });
  assert.equal(reg.maintenanceOf("a"), "runtime");
  reg.setReachable("a", false, "poll failed");
  assert.equal(reg.get("a")?.status, "maintenance", "maintenance wins over reachability");
  await reg.requestMaintenance("a", false, "maintenance off");
  await reg.requestMaintenance("cfg", false, "maintenance off");
  assert.equal(reg.get("cfg")?.status, "maintenance");
  assert.equal(reg.maintenanceOf("cfg"), "config");
  assert.equal(reg.requestMaintenance("nope", true, "x"), undefined, "unknown device");
  assert.deepEqual(seen, [
    "a:unknown->online:first poll succeeded",
    "a:online->maintenance:maintenance on: panel work",
    "a:maintenance->offline:maintenance off",
  ]);
});

test("restored maintenance applies to a device that appears later", () => {
  const reg = new DeviceRegistry({ events: testBus() });
  reg.restoreMaintenance("late", "maintenance on: restored");
  const slot = reg.slotFor("late", "meter", "mqtt", 10);
  assert.equal(slot?.state.status, "maintenance");
  assert.equal(reg.maintenanceOf("late"), "runtime");
});

test("with an active interceptor a change waits for its answer; apply may change status and reason", async () => {
  const { reg, ic, seen, reasons } = withInterceptor();
  reg.setReachable("a", true, "first poll succeeded");
  assert.equal(reg.get("a")?.status, "unknown", "not applied before the answer");
  assert.deepEqual(
    ic.asked.map((c) => [c.device.id, c.from, c.to, c.reason]),
    [["a", "unknown", "online", "first poll succeeded"]],
  );
  ic.answer({ apply: true, status: "offline", reason: "site says: not yet commissioned" });
  await tick();
  assert.equal(reg.get("a")?.status, "offline");
  assert.deepEqual(seen, ["a:unknown->offline"]);
  assert.deepEqual(reasons, ["site says: not yet commissioned"]);
});

test("a veto keeps the old status; readings never wait and do not re-offer the same change", async () => {
  const { reg, ic, seen } = withInterceptor();
  const dev = reg.get("a") as DeviceState;
  reg.markSeen(dev, 1);
  reg.markSeen(dev, 2);
  assert.equal(dev.lastSeen, 2, "readings are recorded at once");
  assert.equal(ic.open, 1, "one change offered");
  ic.answer({ apply: false, reason: "no", hook: "site", kind: "veto" });
  await tick();
  assert.equal(dev.status, "unknown");
  reg.markSeen(dev, 3);
  assert.equal(ic.asked.length, 1, "the same inputs are not offered again at every reading");
  assert.deepEqual(seen, []);
});

test("a failing interceptor does not freeze the status: the change applies as computed", async () => {
  const { reg, ic, seen } = withInterceptor();
  reg.setReachable("a", false, "poll failed");
  ic.answer(new Error("hook bug"));
  await tick();
  assert.equal(reg.get("a")?.status, "offline");
  assert.deepEqual(seen, ["a:unknown->offline"]);
});

test("one device's changes are offered one at a time, in order; waiting recomputations merge", async () => {
  const { reg, ic, seen } = withInterceptor();
  reg.setReachable("a", true, "r1");
  reg.setReachable("a", false, "r2");
  reg.setReachable("a", true, "r3");
  assert.equal(ic.open, 1, "only the first is in flight");
  ic.answer({ apply: true, status: "online", reason: "r1" });
  await tick();
  // The inputs now say online again: the merged recomputation finds nothing to change.
  assert.equal(ic.asked.length, 1);
  assert.deepEqual(seen, ["a:unknown->online"]);
  reg.setReachable("a", false, "r4");
  const m = reg.requestMaintenance("a", true, "maintenance on: panel work");
  assert.equal(ic.open, 1);
  ic.answer({ apply: true, status: "offline", reason: "r4" });
  await tick();
  assert.deepEqual(
    ic.asked.map((c) => `${c.from}->${c.to}:${c.reason}`),
    ["unknown->online:r1", "online->offline:r4", "offline->maintenance:maintenance on: panel work"],
  );
  ic.answer({ apply: true, status: "maintenance", reason: "maintenance on: panel work" });
  assert.deepEqual(await m, { applied: true, status: "maintenance", reason: "maintenance on: panel work" });
  assert.deepEqual(seen, ["a:unknown->online", "a:online->offline", "a:offline->maintenance"]);
});

test("a vetoed maintenance request leaves status and flag unchanged and says how it was refused", async () => {
  const { reg, ic } = withInterceptor();
  const kinds = ["veto", "processing", "invalid", "denied"] as const;
  for (const kind of kinds) {
    const p = reg.requestMaintenance("a", true, "maintenance on: x");
    ic.answer({ apply: false, reason: `refused (${kind})`, hook: "site", kind });
    const out = await p;
    assert.deepEqual(out, { applied: false, status: "unknown", reason: `refused (${kind})`, hook: "site", kind });
    assert.equal(reg.maintenanceOf("a"), null);
  }
});

test("an inactive interceptor costs nothing: changes apply synchronously", () => {
  const { reg, ic, seen } = withInterceptor();
  ic.active = false;
  reg.setReachable("a", true);
  assert.equal(reg.get("a")?.status, "online");
  assert.deepEqual(seen, ["a:unknown->online"]);
  assert.equal(ic.asked.length, 0);
});
