// beforeDeviceStatus through a real HookManager (hook files in a temp dir): the verdict follows what
// the hook did, and through a real DeviceRegistry the verdict decides the device's status.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import type { DeviceStatusChange } from "../../../src/core/ports.js";
import type { DeviceState } from "../../../src/core/types.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

const g = globalThis as unknown as { __status: { mode: string; seen: unknown[] } };
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const device: DeviceState = {
  id: "meter-01",
  product: "meter",
  status: "online",
  lastSeen: 1,
  values: { v: 230 },
  source: "modbus",
};
const change = (over: Partial<DeviceStatusChange> = {}): DeviceStatusChange => ({
  device: { ...device, values: { ...device.values } },
  from: "online",
  to: "offline",
  reason: "poll failed",
  ...over,
});

// One hook whose behaviour the test switches through globalThis, so it is loaded once.
const HOOK = `
class PermissionDenied extends Error { constructor(m) { super(m); this.name = "PermissionDenied"; } }
export default {
  beforeDeviceStatus(change, ctx) {
    const s = globalThis.__status;
    s.seen.push({ change: structuredClone(change), name: ctx.name });
    change.device.values.v = -1;
    switch (s.mode) {
      case "nothing": return undefined;
      case "same": return change;
      case "rewrite": return { ...change, status: "maintenance", reason: "shift handover" };
      case "null": return null;
      case "processing": throw new ctx.errors.ProcessingError("Too early for lunch");
      case "invalid": throw new ctx.errors.InvalidDataInput({ reason: "unknown reason code" });
      case "own-class": throw new PermissionDenied("site forbids it");
      case "plain": throw new Error("bug in the hook");
      case "bad-status": return { status: "sleeping" };
      case "bad-type": return 42;
      case "async-null": return Promise.resolve(null);
      case "hang": return new Promise(() => {});
    }
  },
};`;

async function started(mode: string): Promise<void> {
  g.__status = { mode, seen: [] };
  h.write("status-owner.mjs", HOOK);
  await h.manager.start();
}

test("no hook defines beforeDeviceStatus: the port is inactive and answers the change as proposed", async () => {
  h = harness();
  h.write("obs.mjs", "export default { onReading() {} };");
  await h.manager.start();
  const port = h.manager.statusInterceptor;
  assert.equal(port.active, false);
  assert.deepEqual(await port.beforeDeviceStatus(change()), { apply: true, status: "offline", reason: "poll failed" });
});

test("the hook sees {deviceId, device, oldStatus, status, reason} and ctx; nothing or the change applies it", async () => {
  h = harness();
  await started("nothing");
  const port = h.manager.statusInterceptor;
  assert.equal(port.active, true);
  const c = change();
  assert.deepEqual(await port.beforeDeviceStatus(c), { apply: true, status: "offline", reason: "poll failed" });
  assert.deepEqual(g.__status.seen[0], {
    name: "status-owner",
    change: { deviceId: "meter-01", device, oldStatus: "online", status: "offline", reason: "poll failed" },
  });
  g.__status.mode = "same";
  assert.deepEqual(await port.beforeDeviceStatus(change()), { apply: true, status: "offline", reason: "poll failed" });
});

test("a returned change with another status and reason is applied as returned", async () => {
  h = harness();
  await started("rewrite");
  const v = await h.manager.statusInterceptor.beforeDeviceStatus(change());
  assert.deepEqual(v, { apply: true, status: "maintenance", reason: "shift handover" });
  assert.ok(h.logs.some((l) => l.msg === "device status change rewritten by hook" && l.hook === "status-owner"));
});

test("null vetoes (kind veto); typed errors veto with their kind and message; none counts as a hook error", async () => {
  h = harness();
  await started("null");
  const port = h.manager.statusInterceptor;
  assert.deepEqual(await port.beforeDeviceStatus(change()), {
    apply: false,
    reason: "Blocked by hook",
    hook: "status-owner",
    kind: "veto",
  });
  const cases: [string, string, string][] = [
    ["async-null", "veto", "Blocked by hook"],
    ["processing", "processing", "Too early for lunch"],
    ["invalid", "invalid", "reason: unknown reason code"],
    ["own-class", "denied", "site forbids it"],
  ];
  for (const [mode, kind, reason] of cases) {
    g.__status.mode = mode;
    assert.deepEqual(
      await port.beforeDeviceStatus(change()),
      { apply: false, reason, hook: "status-owner", kind },
      mode,
    );
  }
  const info = h.manager.list().find((i) => i.name === "status-owner");
  assert.equal(info?.errors, 0, "a veto is an answer, not a failure");
  const vetoLog = h.logs.find((l) => String(l.msg).includes("vetoed by hook status-owner: Too early for lunch"));
  assert.ok(vetoLog, "a veto is logged with the hook and the reason");
});

test("a plain throw, an invalid status or answer: the original change applies, logged with hook name and stack", async () => {
  h = harness();
  await started("plain");
  const port = h.manager.statusInterceptor;
  const original = { apply: true, status: "offline", reason: "poll failed" };
  assert.deepEqual(await port.beforeDeviceStatus(change()), original);
  const err = h.logs.find((l) => l.level === 50 && l.hook === "status-owner" && l.method === "beforeDeviceStatus");
  assert.ok(err, "the failure is logged with the hook's name and method");
  assert.match(err.err?.stack ?? "", /bug in the hook/);
  g.__status.mode = "bad-status";
  assert.deepEqual(await port.beforeDeviceStatus(change()), original);
  assert.ok(h.logs.some((l) => String(l.msg).includes('returned status "sleeping", expected one of unknown, online')));
  g.__status.mode = "bad-type";
  assert.deepEqual(await port.beforeDeviceStatus(change()), original);
  assert.equal(h.manager.list().find((i) => i.name === "status-owner")?.errors, 3);
});

test("a hook that does not answer within hooks.timeoutMs: the original change applies", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  h = harness({ clock, hooksConfig: { timeoutMs: 500 } });
  await started("hang");
  const pending = h.manager.statusInterceptor.beforeDeviceStatus(change());
  await waitFor(() => g.__status.seen.length === 1, { what: "the hook to be called" });
  clock.advance(500);
  assert.deepEqual(await pending, { apply: true, status: "offline", reason: "poll failed" });
  assert.equal(h.manager.list().find((i) => i.name === "status-owner")?.timeouts, 1);
});

test("through a real DeviceRegistry: a veto keeps the old status, a rewrite sets the hook's status", async () => {
  h = harness();
  await started("nothing");
  h.devices.interceptStatus(h.manager.statusInterceptor);
  const statuses: string[] = [];
  h.events.on("deviceStatusChanged", (_d, _from, to) => statuses.push(to));
  h.devices.declare({ id: "meter-01", product: "meter" }, "modbus");
  h.devices.setReachable("meter-01", true, "poll ok");
  await waitFor(() => h.devices.get("meter-01")?.status === "online", { what: "online" });
  g.__status.mode = "processing";
  h.devices.setReachable("meter-01", false, "poll failed");
  await waitFor(() => g.__status.seen.length === 2, { what: "the offline change offered" });
  await waitFor(() => h.logs.some((l) => String(l.msg).includes("vetoed")), { what: "the veto" });
  assert.equal(h.devices.get("meter-01")?.status, "online", "vetoed: the device keeps its status");
  assert.deepEqual((g.__status.seen[1] as { change: unknown }).change, {
    deviceId: "meter-01",
    device: { ...h.devices.get("meter-01"), values: {} },
    oldStatus: "online",
    status: "offline",
    reason: "poll failed",
  });
  g.__status.mode = "rewrite";
  h.devices.setReachable("meter-01", true, "poll ok");
  h.devices.setReachable("meter-01", false, "poll failed again");
  await waitFor(() => h.devices.get("meter-01")?.status === "maintenance", { what: "the hook's status" });
  assert.deepEqual(statuses, ["online", "maintenance"]);
  assert.equal(h.devices.get("meter-01")?.values.v, undefined, "changing the hook's copy changes nothing");
});
