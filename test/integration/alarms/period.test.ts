// A rule's period, period OFF and actions.alarm false, end to end: alarm service → outbox → the
// fake platform (alerts, work orders, webhooks) over HTTP, with a manual clock.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { CompiledRule } from "../../../src/core/ports.js";
import type { RuleDefinition } from "../../../src/core/types.js";
import { COMPLETE, CREATE, type PlatformRig, platformRig, platformRule } from "./platform-rig.js";
import { reading } from "./setup.js";

let r: PlatformRig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const compiled = (def: RuleDefinition): CompiledRule => ({ def, file: "rules/test.json", level: () => 0 });

/** One episode: the condition holds, then clears; `gapS` seconds pass after each step. */
function episode(rig: PlatformRig, rule: CompiledRule, gapS = 10): void {
  const d = rig.devices.device("meter-01");
  rig.svc.observe(rule, d, 2, reading(d, { voltage: 260 }));
  rig.h.clock.advance(gapS * 1000);
  rig.svc.observe(rule, d, 0, reading(d, { voltage: 230 }));
  rig.h.clock.advance(gapS * 1000);
}

test("a signal flapping inside the period: one alarm, one work order, one webhook, one onAlarmCreated; repeats counted", async () => {
  r = await platformRig();
  const rule = compiled(platformRule(r.up, { period: 3600 }));
  for (let i = 0; i < 10; i++) episode(r, rule);
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 1, "one /alert/add");
  assert.equal(r.up.paths(CREATE).length, 1, "one work order");
  assert.equal(r.up.paths(COMPLETE).length, 1, "the raised alarm's work order completed when it resolved");
  assert.equal(r.up.paths("/hook/alarm").length, 1, "one webhook (its resolve is within the period)");
  assert.equal(r.created.length, 1, "one onAlarmCreated");
  assert.equal(r.up.paths("/alert/update").length, 1, "only the raised alarm's resolve");
  const { total, alarms } = r.alarms.list({});
  assert.equal(total, 1);
  const a = alarms[0]!;
  assert.equal(a.status, 0);
  assert.equal(a.recurrences, 9);
  assert.equal(a.lastRecurrence, a.created + 9 * 20_000);
  assert.equal(r.alarms.get(a.id)?.recurrences, 9);

  // After the period a new episode is raised normally.
  r.h.clock.advance(3600_000);
  episode(r, rule);
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 2);
  assert.equal(r.up.paths(CREATE).length, 2);
  assert.equal(r.created.length, 2);
  assert.equal(r.alarms.list({}).alarms[1]?.recurrences, 0);
});

test("a silenced repeat does not raise while it lasts, even past the period; the next episode does", async () => {
  r = await platformRig();
  const rule = compiled(platformRule(r.up, { period: 60 }));
  episode(r, rule, 5);
  const d = r.devices.device("meter-01");
  r.svc.observe(rule, d, 2, reading(d, { voltage: 260 }));
  r.h.clock.advance(120_000);
  r.svc.observe(rule, d, 2, reading(d, { voltage: 261 }));
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 1, "still the same silenced episode");
  r.svc.observe(rule, d, 0, reading(d, { voltage: 230 }));
  r.svc.observe(rule, d, 2, reading(d, { voltage: 260 }));
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 2, "a new episode ≥ period after the raise");
  assert.equal(r.alarms.list({}).alarms[0]?.recurrences, 1);
});

test("a restart keeps the period (last raise from the alarms table) and an ongoing silenced repeat", async () => {
  r = await platformRig();
  const rule = compiled(platformRule(r.up, { period: 3600 }));
  episode(r, rule);
  await r.settle();
  await r.restart();
  episode(r, rule);
  const d = r.devices.device("meter-01");
  r.svc.observe(rule, d, 2, reading(d, { voltage: 260 }));
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 1, "no raise within the period after the restart");
  assert.equal(r.alarms.list({}).alarms[0]?.recurrences, 2);
  // Restart while the second repeat goes on: it is the same episode, neither counted again nor raised.
  await r.restart();
  r.h.clock.advance(3600_000);
  r.svc.observe(rule, d, 2, reading(d, { voltage: 262 }));
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 1);
  assert.equal(r.alarms.list({}).alarms[0]?.recurrences, 2);
  r.svc.observe(rule, d, 0, reading(d, { voltage: 230 }));
  r.svc.observe(rule, d, 2, reading(d, { voltage: 260 }));
  await r.settle();
  assert.equal(r.up.paths("/alert/add").length, 2);
});

test("period OFF: the alarm is recorded and sent (add, update), no webhook, no work order; hooks observe", async () => {
  r = await platformRig();
  const rule = compiled(platformRule(r.up, { off: true, period: 0 }));
  episode(r, rule);
  episode(r, rule);
  await r.settle();
  assert.equal(r.alarms.list({}).total, 2);
  assert.equal(r.up.paths("/alert/add").length, 2);
  assert.equal(r.up.paths("/alert/update").length, 2);
  assert.equal(r.up.paths("/hook/alarm").length, 0);
  assert.equal(r.up.paths(CREATE).length, 0);
  assert.equal(r.created.length, 2);
  assert.equal(r.resolved.length, 2);
});

test("actions.alarm false: webhook and work order run, no alarm recorded or sent; the work order completes", async () => {
  r = await platformRig();
  const rule = compiled(
    platformRule(r.up, { period: 600, actions: { alarm: false, workOrder: {}, webhook: `${r.up.url}/hook/alarm` } }),
  );
  episode(r, rule);
  await r.settle();
  assert.equal(r.up.paths("/hook/alarm").length, 1);
  assert.equal(r.up.paths(CREATE).length, 1);
  assert.equal(r.up.paths(COMPLETE).length, 1, "completed when the firing ended");
  assert.equal(r.up.paths("/alert/add").length, 0);
  assert.equal(r.up.paths("/alert/update").length, 0);
  assert.equal(r.alarms.list({}).total, 0);
  assert.equal((r.h.db.prepare("SELECT count(*) AS n FROM alarms").get() as { n: number }).n, 0, "no alarm row");
  assert.equal(r.created.length, 0, "no alarm hooks");
  assert.equal(r.h.repo.summary(r.h.clock.now()).deadLetters, 0);
  const order = JSON.parse(r.up.paths(CREATE)[0]!.body) as { alarmId: string };
  assert.equal(r.firings.get(order.alarmId)?.ruleId, "overvoltage", "the work order names the firing");
  // The period applies to firings too.
  episode(r, rule);
  episode(r, rule);
  await r.settle();
  assert.equal(r.up.paths("/hook/alarm").length, 1);
  assert.equal(r.up.paths(CREATE).length, 1);
  assert.equal(r.firings.get(order.alarmId)?.recurrences, 2);
});
