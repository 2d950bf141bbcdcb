// Writing a Modbus point is opt-in: only points marked "writable": true can be written, from a hook
// or anywhere else. A write to any other point is refused, naming the device and point and saying
// how to allow it, and never reaches the device; an opted-in point is written on a real server.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import type { DeviceState } from "../../../../src/core/types.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { type Harness, harness, sampleAlarm } from "../../../fixtures/hooks/harness.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { RecordingSink, startModbusServer, type TestModbusServer } from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

let server: TestModbusServer;
let source: ModbusSource;
let h: Harness | undefined;

before(async () => {
  server = await startModbusServer();
  server.slave.memory.coils[0] = 1;
  server.slave.memory.coils[1] = 1;
  server.slave.memory.holding[10] = 100;
  const log = silentLogger();
  source = new ModbusSource({
    config: {
      buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 1000 }],
      devices: [
        {
          id: "meter-01",
          bus: "plant",
          unitId: 1,
          product: "meter",
          intervalMs: 60_000,
          points: [
            { name: "breaker_on", table: "coil", address: 0, type: "bool", writable: true },
            { name: "trip_relay", table: "coil", address: 1, type: "bool", writable: false },
            { name: "setpoint", table: "holding", address: 10, type: "uint16" },
          ],
        },
      ],
    },
    sink: new RecordingSink(),
    events: testBus(log),
    clock: systemClock,
    log,
    metrics: testMetrics(),
  });
  await source.start();
});

after(async () => {
  await h?.close();
  await source.stop();
  await server.close();
});

const refused = (point: string) =>
  new RegExp(
    `cannot write meter-01\\.${point}: point "${point}" of Modbus device "meter-01" is not writable.*"writable": true`,
  );

test("a point without writable (or with writable false) is refused with the point named; nothing is sent", async () => {
  const before = server.slave.requests;
  await assert.rejects(source.writer.write("meter-01", "setpoint", 5), refused("setpoint"));
  await assert.rejects(source.writer.write("meter-01", "trip_relay", false), refused("trip_relay"));
  assert.equal(server.slave.requests, before);
  assert.equal(server.slave.memory.holding[10], 100);
  assert.equal(server.slave.memory.coils[1], 1);
});

test("a point marked writable: true is written on the device", async () => {
  await source.writer.write("meter-01", "breaker_on", false);
  assert.equal(server.slave.memory.coils[0], 0);
  server.slave.memory.coils[0] = 1;
});

test("a hook's ctx.modbus.write obeys the same rule", async () => {
  h = harness({ clock: systemClock });
  const out: [string, string][] = [];
  (globalThis as Record<string, unknown>).__optin = out;
  h.write(
    "interlock.mjs",
    `export default {
      async onAlarmCreated(alarm, device, rule, ctx) {
        for (const [p, v] of [["setpoint", 7], ["breaker_on", false]]) {
          try { await ctx.modbus.write("meter-01", p, v); globalThis.__optin.push([p, "ok"]); }
          catch (e) { globalThis.__optin.push([p, e.message]); }
        }
      },
    };`,
  );
  const manager = h.make({ modbus: source.writer });
  await manager.start();
  const device: DeviceState = {
    id: "meter-01",
    product: "meter",
    status: "alarm",
    lastSeen: 1,
    values: {},
    source: "modbus",
  };
  const rule = { id: "r-1", name: "n", key: "meter", type: "rule" as const, level: 4, conditions: { all: [] } };
  h.events.emit("alarmCreated", sampleAlarm(), device, rule);
  await waitFor(() => out.length === 2, { what: "both hook writes settled" });
  assert.match(out[0]?.[1] ?? "", refused("setpoint"));
  assert.deepEqual(out[1], ["breaker_on", "ok"]);
  assert.equal(server.slave.memory.holding[10], 100);
  assert.equal(server.slave.memory.coils[0], 0);
});
