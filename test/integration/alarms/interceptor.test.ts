import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { AlarmInterceptor } from "../../../src/core/ports.js";
import type { Alarm } from "../../../src/core/types.js";
import { waitFor } from "../../helpers/wait.js";
import { reading, rig, rule, tempDir } from "./setup.js";

const tmp = tempDir();
after(() => tmp.cleanup());
let n = 0;
const dbFile = () => join(tmp.dir, `t${++n}.db`);

class Interceptor implements AlarmInterceptor {
  active = true;
  calls: Alarm[] = [];
  constructor(public fn: (a: Alarm) => Promise<Alarm | null>) {}
  beforeAlarm(alarm: Alarm): Promise<Alarm | null> {
    this.calls.push(alarm);
    return this.fn(alarm);
  }
}

test("beforeAlarm may change the alarm but not its identity or status", async () => {
  const hook = new Interceptor(async (a) => ({ ...a, id: "hijack", status: 0, title: "Changed", level: 5 }));
  const r = await rig(dbFile(), { interceptor: hook });
  const d = r.devices.device("m1");
  r.svc.observe(rule(), d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  const [a] = r.alarms.active();
  assert.ok(a);
  assert.equal(a.title, "Changed");
  assert.equal(a.level, 5);
  assert.equal(a.status, 2);
  assert.equal(a.id, hook.calls[0]?.id);
  await r.close();
});

test("a suppressed alarm leaves no row and is not asked again until the condition clears", async () => {
  const hook = new Interceptor(async () => null);
  const r = await rig(dbFile(), { interceptor: hook });
  const d = r.devices.device("m1");
  const ru = rule();
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  for (let i = 0; i < 5; i++) r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  assert.equal(hook.calls.length, 1);
  assert.equal(r.reader.prepare("SELECT count(*) FROM alarms").pluck().get(), 0);
  assert.deepEqual(r.active, []);
  r.svc.observe(ru, d, 0, reading(d, { voltage: 230 }));
  r.svc.observe(ru, d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  assert.equal(hook.calls.length, 2, "a new episode asks again");
  await r.close();
});

test("a throwing beforeAlarm raises the original alarm; an inactive interceptor is never called", async () => {
  const hook = new Interceptor(async () => {
    throw new Error("hook bug");
  });
  const r = await rig(dbFile(), { interceptor: hook });
  const d = r.devices.device("m1");
  r.svc.observe(rule(), d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  assert.equal(r.alarms.active()[0]?.title, "Over-voltage on incomer");
  hook.active = false;
  r.svc.observe(rule({ id: "other" }), d, 2, reading(d, { voltage: 260 }));
  await r.svc.flush();
  assert.equal(hook.calls.length, 1);
  assert.equal(r.alarms.active().length, 2);
  await r.close();
});

test("a slow beforeAlarm holds only its own alarm; readings meanwhile are reconciled when it answers", async () => {
  let release: (() => void) | undefined;
  const gate = new Promise<void>((res) => {
    release = res;
  });
  const hook = new Interceptor(async (a) => {
    if (a.resource.id === "slow") await gate;
    return a;
  });
  const r = await rig(dbFile(), { interceptor: hook });
  const events: string[] = [];
  r.events.on("alarmCreated", (a) => events.push(`created:${a.resource.id}:${a.status}`));
  r.events.on("alarmUpdated", (a) => events.push(`updated:${a.resource.id}:${a.status}`));
  r.events.on("alarmResolved", (a) => events.push(`resolved:${a.resource.id}`));
  const slow = r.devices.device("slow");
  const fast = r.devices.device("fast");
  const ru = rule();
  r.svc.observe(ru, slow, 1, reading(slow, { voltage: 247 }));
  r.svc.observe(ru, fast, 2, reading(fast, { voltage: 260 }));
  await waitFor(() => events.includes("created:fast:2"), { what: "the fast alarm" });
  // While the hook thinks, the slow device escalates; one ask only, then created + escalated.
  r.svc.observe(ru, slow, 2, reading(slow, { voltage: 260 }));
  r.svc.observe(ru, slow, 2, reading(slow, { voltage: 261 }));
  assert.equal(hook.calls.length, 2);
  assert.ok(!events.some((e) => e.includes("slow")));
  release?.();
  await r.svc.flush();
  assert.deepEqual(
    events.filter((e) => e.includes("slow")),
    ["created:slow:1", "updated:slow:2"],
  );
  await r.close();
});
