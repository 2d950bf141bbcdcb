// A device's `alarm` status comes from the alarm service's open alarms (alarms/open-alarms.ts),
// read by the real device registry: it changes only after the commit, survives a restart (also
// for an MQTT device that has not reported yet when the open alarms are loaded), and an operator
// resolve brings the device back online.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { OpenAlarms } from "../../../src/alarms/open-alarms.js";
import { EventBus } from "../../../src/core/events.js";
import { silentLogger } from "../../../src/core/log.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { waitFor } from "../../helpers/wait.js";
import { reading, rig, rule, tempDir } from "./setup.js";

const tmp = tempDir();
after(() => tmp.cleanup());

function registry(): { reg: DeviceRegistry; open: OpenAlarms; seen: string[]; events: EventBus } {
  const events = new EventBus(silentLogger());
  const open = new OpenAlarms(silentLogger());
  const reg = new DeviceRegistry({ events, alarms: open });
  const seen: string[] = [];
  events.on("deviceStatusChanged", (d, from, to) => seen.push(`${d.id}:${from}->${to}`));
  return { reg, open, seen, events };
}

test("device status follows committed open alarms, across a restart and an operator resolve", async () => {
  const file = join(tmp.dir, "status.db");
  const ru = rule();

  const a = registry();
  const r1 = await rig(file, { devices: a.reg, openAlarms: a.open });
  const m1 = a.reg.entryFor("m1", "meter", "mqtt");
  a.reg.markSeen(m1, 1);
  r1.svc.observe(ru, m1, 2, reading(m1, { voltage: 260 }));
  assert.equal(m1.status, "online", "not before the commit");
  await waitFor(() => m1.status === "alarm", { what: "m1 in alarm" });
  assert.deepEqual(a.seen, ["m1:unknown->online", "m1:online->alarm"]);
  await r1.close();

  // The restarted agent loads the open alarm before the MQTT device has said anything.
  const b = registry();
  const r2 = await rig(file, { devices: b.reg, openAlarms: b.open });
  assert.deepEqual(b.open.devices(), ["m1"]);
  assert.equal(b.reg.get("m1"), undefined);
  const slot = b.reg.slotFor("m1", "meter", "mqtt", 10);
  assert.ok(slot);
  b.reg.markSeen(slot.state, 2);
  assert.deepEqual(b.seen, ["m1:unknown->alarm"], "in alarm from its first reading");

  const [open] = r2.alarms.active();
  assert.ok(open);
  await r2.svc.resolve(open.id, "alice", "");
  assert.equal(slot.state.status, "online");
  assert.deepEqual(b.seen, ["m1:unknown->alarm", "m1:alarm->online"]);
  await r2.close();
});
