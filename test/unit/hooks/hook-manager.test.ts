import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import type { DeviceState, Reading } from "../../../src/core/types.js";
import { type Harness, harness, sampleAlarm } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

type Rec = unknown[][];
const g = globalThis as unknown as Record<string, Rec>;
let h: Harness;
afterEach(async () => {
  await h?.close();
});

function rec(name: string): Rec {
  g[name] = [];
  return g[name] as Rec;
}

const device: DeviceState = {
  id: "meter-01",
  product: "meter",
  status: "online",
  lastSeen: 1,
  values: {},
  source: "mqtt",
};
const reading = (i: number): Reading => ({
  deviceId: "meter-01",
  product: "meter",
  ts: i,
  values: { v: i },
  source: "mqtt",
});

test("loads .js and .mjs hooks in file-name order, skips _/. files, disabled names and non-hooks with a warning", async () => {
  h = harness({ hooksConfig: { disabled: ["c-off"] } });
  const r = rec("__load");
  h.write("b-second.mjs", "export default { start() { globalThis.__load.push(['b']) } };");
  h.write("a-first.mjs", "export default { start(ctx) { globalThis.__load.push(['a', ctx.name]) } };");
  h.write("_draft.mjs", "export default { start() { globalThis.__load.push(['draft']) } };");
  h.write(".hidden.mjs", "export default { start() { globalThis.__load.push(['hidden']) } };");
  h.write("c-off.mjs", "export default { start() { globalThis.__load.push(['off']) } };");
  h.write("helper.mjs", "export const x = 1;");
  h.write("notes.txt", "not a module");
  await h.manager.start();
  assert.deepEqual(r, [["a", "a-first"], ["b"]]);
  assert.deepEqual(
    h.manager.list().map((i) => [i.name, i.state]),
    [
      ["a-first", "running"],
      ["b-second", "running"],
      ["helper", "failed"],
      ["c-off", "disabled"],
    ],
  );
  const forced = await h.manager.load("c-off");
  assert.equal(forced.ok, true, "the API can load a hook that hooks.disabled lists");
  assert.deepEqual(r.at(-1), ["off"]);
  assert.equal(h.manager.list().find((i) => i.name === "c-off")?.state, "running");
  const warn = h.logs.find((l) => l.level === 40 && String(l.msg).includes("helper.mjs"));
  assert.ok(warn, "a warning names the file that is not a hook");
  assert.match(warn.msg, /not a hook: no default export/);
});

test("observers get the event arguments plus ctx, in the order events happened, off the emitter's call", async () => {
  h = harness();
  const r = rec("__obs");
  h.write(
    "obs.mjs",
    `export default {
      async onReading(reading, device, ctx) { await new Promise((res) => setTimeout(res, reading.ts % 3)); globalThis.__obs.push(['reading', reading.ts, device.id, ctx.name]); },
      onRawMessage(source, topic, payload, ctx) { globalThis.__obs.push(['raw', source, topic, payload.a]); },
      onAlarmCreated(alarm, device, rule, ctx) { globalThis.__obs.push(['created', alarm.id, device.id, rule.id]); },
      onAlarmResolved(alarm, device, ctx) { globalThis.__obs.push(['resolved', alarm.id, device.id]); },
      onDeviceStatusChanged(device, oldS, newS, ctx) { globalThis.__obs.push(['status', device.id, oldS, newS]); },
      onQuotaExceeded(quota, usage, ctx) { globalThis.__obs.push(['quota', quota.id, usage.crossed]); },
      onWorkOrderCreated(order, ctx) { globalThis.__obs.push(['woCreated', order.orderId]); },
      onWorkOrderCompleted(order, ctx) { globalThis.__obs.push(['woCompleted', order.orderId]); },
    };`,
  );
  assert.equal(h.events.hasListeners("reading"), false);
  await h.manager.start();
  assert.equal(h.events.hasListeners("reading"), true);
  for (let i = 1; i <= 20; i++) h.events.emit("reading", reading(i), device);
  assert.equal(r.length, 0, "nothing ran inside emit");
  h.events.emit("rawMessage", "mqtt", "meters/1/telemetry", { a: 7 });
  const rule = { id: "r-1", name: "n", key: "meter", type: "rule" as const, level: 4, conditions: { all: [] } };
  h.events.emit("alarmCreated", sampleAlarm(), device, rule);
  h.events.emit("alarmResolved", sampleAlarm({ status: 0 }), device);
  h.events.emit("deviceStatusChanged", device, "online", "offline");
  const quota = { id: "q1", device: "meter-01", metric: "e", period: "day" as const, limit: 10 };
  h.events.emit("quotaExceeded", quota, {
    quotaId: "q1",
    periodStart: 0,
    usage: 9,
    limit: 10,
    ratio: 0.9,
    crossed: "warn",
  });
  const order = { orderId: "1234567890123456789", alarmId: "a-1", title: "t", priority: 1 };
  h.events.emit("workOrderCreated", order);
  h.events.emit("workOrderCompleted", order);
  await waitFor(() => r.length === 27, { what: "all events delivered" });
  assert.deepEqual(
    r.slice(0, 20).map((x) => x[1]),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.deepEqual(r[0], ["reading", 1, "meter-01", "obs"]);
  assert.deepEqual(r.slice(20), [
    ["raw", "mqtt", "meters/1/telemetry", 7],
    ["created", "a-1", "meter-01", "r-1"],
    ["resolved", "a-1", "meter-01"],
    ["status", "meter-01", "online", "offline"],
    ["quota", "q1", "warn"],
    ["woCreated", "1234567890123456789"],
    ["woCompleted", "1234567890123456789"],
  ]);
});

test("an event with no hook method is not subscribed (the hot path pays nothing)", async () => {
  h = harness();
  h.write("only-alarms.mjs", "export default { onAlarmCreated() {} };");
  await h.manager.start();
  assert.equal(h.events.hasListeners("rawMessage"), false);
  assert.equal(h.events.hasListeners("reading"), false);
  assert.equal(h.events.hasListeners("alarmCreated"), true);
  assert.equal(h.manager.active, false);
  await h.manager.unload("only-alarms");
  assert.equal(h.events.hasListeners("alarmCreated"), false);
});

test("a throwing hook is logged with name and stack, counted, and other hooks and the emitter go on", async () => {
  h = harness();
  const r = rec("__thr");
  h.write("a-bad.mjs", "export default { onReading(r) { if (r.ts % 2) throw new Error('boom ' + r.ts); } };");
  h.write("b-good.mjs", "export default { onReading(r) { globalThis.__thr.push([r.ts]); } };");
  await h.manager.start();
  for (let i = 1; i <= 10; i++) h.events.emit("reading", reading(i), device);
  await waitFor(() => r.length === 10);
  await waitFor(() => h.manager.list().find((i) => i.name === "a-bad")?.errors === 5);
  const line = h.logs.find((l) => l.level === 50 && l.hook === "a-bad");
  assert.ok(line);
  assert.equal(line.method, "onReading");
  assert.match(line.err?.stack ?? "", /boom 1[\s\S]*a-bad\.mjs/);
  assert.equal(h.metrics.counter("edge_hook_errors_total", "").get({ hook: "a-bad", method: "onReading" }), 5);
});

test("a hanging hook is abandoned after hooks.timeoutMs and its next events still arrive", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { timeoutMs: 1000 } });
  const r = rec("__hang");
  h.write(
    "hang.mjs",
    "export default { onReading(r) { globalThis.__hang.push([r.ts]); if (r.ts === 1) return new Promise(() => {}); } };",
  );
  await h.manager.start();
  h.events.emit("reading", reading(1), device);
  h.events.emit("reading", reading(2), device);
  await waitFor(() => r.length === 1);
  clock.advance(999);
  // the manual clock fires due timers inside advance(): had the deadline passed, the call would be abandoned now
  assert.equal(h.manager.list()[0]?.timeouts, 0, "still waiting before the deadline");
  assert.equal(r.length, 1, "the next event waits behind the hanging call");
  clock.advance(1);
  assert.equal(h.manager.list()[0]?.timeouts, 1, "abandoned at the deadline");
  await waitFor(() => r.length === 2);
  const info = h.manager.list()[0];
  assert.equal(info?.timeouts, 1);
  assert.ok(h.logs.some((l) => l.level === 40 && l.hook === "hang" && /did not finish within 1000 ms/.test(l.msg)));
});

test("a slow hook's queue is bounded: overflow is dropped and counted, emit stays immediate", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { queueSize: 5, timeoutMs: 60_000 } });
  const r = rec("__slow");
  h.write(
    "slow.mjs",
    "export default { onReading(r) { globalThis.__slow.push([r.ts]); return new Promise(() => {}); } };",
  );
  await h.manager.start();
  for (let i = 1; i <= 100; i++) h.events.emit("reading", reading(i), device);
  const info = h.manager.list()[0];
  assert.equal(info?.dropped, 95);
  assert.equal(h.metrics.counter("edge_hook_dropped_total", "").get({ hook: "slow" }), 95);
  await waitFor(() => r.length === 1);
  clock.advance(60_000);
  await waitFor(() => r.length === 2);
  assert.deepEqual(r, [[1], [2]]);
});

test("beforeAlarm chains in load order, can modify and suppress; a throw or timeout keeps the input", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { timeoutMs: 500 } });
  h.write("10-title.mjs", "export default { beforeAlarm(a) { a.title = a.title + ' [A]'; return a; } };");
  h.write("20-throws.mjs", "export default { beforeAlarm(a) { a.title = 'mutated'; throw new Error('nope'); } };");
  h.write(
    "30-level.mjs",
    "export default { beforeAlarm(a, device, rule) { return { ...a, level: 5, id: 'hijack', message: a.title + '/' + device.id + '/' + rule.id }; } };",
  );
  h.write("40-suppress.mjs", "export default { beforeAlarm(a) { if (a.details.voltage < 255) return null; } };");
  await h.manager.start();
  assert.equal(h.manager.active, true);
  assert.equal(h.manager.alarmInterceptor.active, true);
  assert.equal(h.manager.uploadInterceptor.active, false);
  const rule = { id: "r-1", name: "n", key: "meter", type: "rule" as const, level: 4, conditions: { all: [] } };
  const input = sampleAlarm();
  const out = await h.manager.beforeAlarm(input, device, rule);
  assert.ok(out);
  assert.equal(out.title, "Over-voltage [A]");
  assert.equal(out.level, 5);
  assert.equal(out.id, "a-1", "identity is the agent's");
  assert.equal(out.message, "Over-voltage [A]/meter-01/r-1");
  assert.equal(input.title, "Over-voltage", "the caller's object is not mutated");
  assert.equal(await h.manager.beforeAlarm(sampleAlarm({ details: { voltage: 251 } }), device, rule), null);
  // hanging interceptor: times out and the chain goes on with the unchanged alarm
  await h.manager.unload("40-suppress");
  h.write("50-hang.mjs", "export default { beforeAlarm() { return new Promise(() => {}); } };");
  await h.manager.load("50-hang");
  const p = h.manager.beforeAlarm(sampleAlarm(), device, rule);
  await waitFor(() => h.clock instanceof ManualClock && (clock.pendingTimers() > 0 || undefined));
  clock.advance(500);
  const out2 = await p;
  assert.equal(out2?.level, 5);
  assert.equal(out2?.title, "Over-voltage [A]");
});

test("beforeAlarm: the next hook in the chain never sees an identity or status a previous hook forged", async () => {
  h = harness();
  const seen = rec("seenAlarms");
  h.write(
    "10-forge.mjs",
    "export default { beforeAlarm(a) { return { ...a, id: 'x', ruleId: 'r-x', status: 0, created: 1, resource: { ...a.resource, id: 'other' }, title: 'T' }; } };",
  );
  h.write("20-record.mjs", "export default { beforeAlarm(a) { globalThis.seenAlarms.push([a]); } };");
  await h.manager.start();
  const rule = { id: "r-1", name: "n", key: "meter", type: "rule" as const, level: 4, conditions: { all: [] } };
  const out = await h.manager.beforeAlarm(sampleAlarm(), device, rule);
  const [[got]] = seen as [[ReturnType<typeof sampleAlarm>]];
  assert.deepEqual(
    [got.id, got.ruleId, got.status, got.created, got.resource.id, got.title],
    ["a-1", "r-1", 2, 1000, "meter-01", "T"],
  );
  assert.deepEqual(out, { ...sampleAlarm(), title: "T" });
});

test("beforeUpload can modify and skip; kpis are merged from every hook", async () => {
  h = harness();
  h.write(
    "a.mjs",
    "export default { beforeUpload(kind, p) { if (kind === 'heartbeat') return { ...p, site: 'A' }; if (kind === 'alarm.update') return null; }, kpis(period) { return { solar: 0.85, bad: 'x', period: period.length }; } };",
  );
  h.write(
    "b.mjs",
    "export default { beforeUpload(kind, p) { return { ...p, seen: (p.seen ?? 0) + 1 }; }, async kpis() { return { grid: 0.72 }; } };",
  );
  await h.manager.start();
  assert.equal(h.manager.uploadInterceptor.active, true);
  assert.equal(h.manager.alarmInterceptor.active, false);
  assert.deepEqual(await h.manager.beforeUpload("heartbeat", { ts: 1 }), { ts: 1, site: "A", seen: 1 });
  assert.equal(await h.manager.beforeUpload("alarm.update", { id: "x" }), null);
  assert.deepEqual(await h.manager.beforeUpload("alarm.add", { id: "x" }), { id: "x", seen: 1 });
  assert.deepEqual(await h.manager.kpis("today"), { solar: 0.85, period: 5, grid: 0.72 });
});

test("class hooks get ctx: kv persists per hook across restarts, devices are copies, modbus.write goes through", async () => {
  h = harness();
  h.devices.entryFor("meter-01", "meter", "mqtt").values.v = 3;
  h.write(
    "counter.mjs",
    `export default class Counter {
      constructor(ctx) { this.ctx = ctx; }
      start(ctx) { ctx.kv.set('starts', (ctx.kv.get('starts') ?? 0) + 1); }
      async onAlarmCreated(alarm, device, rule, ctx) {
        const d = ctx.devices.get('meter-01');
        try { d.values.v = 99; } catch {}
        ctx.kv.set('last', { id: alarm.id, v: ctx.devices.get('meter-01').values.v, active: ctx.alarms.active().length, cfg: ctx.config.gatewayId });
        await ctx.modbus.write('meter-01', 'breaker_on', false);
      }
    };`,
  );
  h.write("other.mjs", "export default { start(ctx) { ctx.kv.set('starts', 'other') } };");
  await h.manager.start();
  const rule = { id: "r-1", name: "n", key: "meter", type: "rule" as const, level: 4, conditions: { all: [] } };
  h.events.emit("alarmCreated", sampleAlarm(), device, rule);
  await waitFor(() => h.writes.length === 1);
  assert.deepEqual(h.writes[0], { deviceId: "meter-01", point: "breaker_on", value: false });
  await h.manager.stop();
  const m2 = h.make();
  await m2.start();
  const rows = h.db.prepare("SELECT ns, key, value FROM kv ORDER BY ns, key").all();
  assert.deepEqual(rows, [
    { ns: "counter", key: "last", value: JSON.stringify({ id: "a-1", v: 3, active: 1, cfg: "gw-test" }) },
    { ns: "counter", key: "starts", value: "2" },
    { ns: "other", key: "starts", value: '"other"' },
  ]);
});

test("CommonJS hooks (module.exports and exports.default) load; stop() runs on unload and shutdown", async () => {
  h = harness();
  const r = rec("__cjs");
  h.write(
    "cjs-plain.js",
    "module.exports = { start() { globalThis.__cjs.push(['plain-start']) }, stop() { globalThis.__cjs.push(['plain-stop']) } };",
  );
  h.write(
    "cjs-ts.js",
    "Object.defineProperty(exports, '__esModule', { value: true }); exports.default = { start() { globalThis.__cjs.push(['ts-start']) }, stop() { globalThis.__cjs.push(['ts-stop']) } };",
  );
  await h.manager.start();
  assert.deepEqual(r, [["plain-start"], ["ts-start"]]);
  const res = await h.manager.unload("cjs-plain");
  assert.equal(res.ok, true);
  assert.deepEqual(r.at(-1), ["plain-stop"]);
  const again = await h.manager.load("cjs-plain");
  assert.equal(again.ok, true);
  assert.equal((await h.manager.unload("nope")).ok, false);
  await h.manager.stop();
  assert.deepEqual(r.slice(4), [["ts-stop"], ["plain-stop"]], "shutdown stops in reverse load order");
});
