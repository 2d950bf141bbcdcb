// Modbus `string` points are string facts: over real Modbus TCP, through the pipeline, rules compare
// them as json-rules-engine does, UTF-8 text included (a controller's status in Chinese), and a
// string written back to the device reads back the same.

import assert from "node:assert/strict";
import { test } from "node:test";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import type { AlarmTracker } from "../../../../src/core/ports.js";
import type { RuleDefinition } from "../../../../src/core/types.js";
import { DeviceRegistry } from "../../../../src/pipeline/device-registry.js";
import { Pipeline } from "../../../../src/pipeline/ingest.js";
import { RuleSet } from "../../../../src/rules/rule-set.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { startModbusServer } from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

function putString(regs: { [i: number]: number }, at: number, len: number, text: string): void {
  const b = Buffer.alloc(len * 2);
  b.write(text, "utf8");
  for (let k = 0; k < len; k++) regs[at + k] = b.readUInt16BE(k * 2);
}

test("a Modbus string point is a string fact a rule alarms on (ASCII and UTF-8)", async () => {
  const srv = await startModbusServer();
  const m = srv.slave.memory;
  putString(m.holding, 0, 4, "FAULT");
  putString(m.holding, 10, 4, "故障");
  const log = silentLogger();
  const events = testBus(log);
  const metrics = testMetrics();
  const devices = new DeviceRegistry({ events });
  devices.declare({ id: "plc-1", product: "plc" }, "modbus");
  const rules = new RuleSet();
  const base = { key: "plc", type: "rule" as const, level: 4 };
  const defs: RuleDefinition[] = [
    {
      ...base,
      id: "fault",
      name: "fault",
      conditions: { all: [{ fact: "state", operator: "equal", value: "FAULT" }] },
    },
    {
      ...base,
      id: "tripped",
      name: "tripped",
      conditions: { all: [{ fact: "state", operator: "in", value: ["FAULT", "TRIP"] }] },
    },
    { ...base, id: "cn", name: "cn", conditions: { all: [{ fact: "label", operator: "equal", value: "故障" }] } },
  ];
  assert.deepEqual(rules.replaceFile("plc.json", defs), []);
  const levels = new Map<string, number>();
  const tracker: AlarmTracker = {
    observe: (rule, _d, level) => {
      levels.set(rule.def.id, level);
    },
    rulesChanged: () => undefined,
    resolve: async () => null,
    flush: async () => undefined,
  };
  const pipeline = new Pipeline({ devices, rules, events, log, metrics, alarms: tracker });
  const source = new ModbusSource({
    config: {
      buses: [{ id: "b", transport: "tcp", host: "127.0.0.1", port: srv.port, timeoutMs: 500 }],
      devices: [
        {
          id: "plc-1",
          bus: "b",
          unitId: 1,
          product: "plc",
          intervalMs: 100,
          points: [
            { name: "state", table: "holding", address: 0, type: "string", length: 4 },
            { name: "label", table: "holding", address: 10, type: "string", length: 4, writable: true },
          ],
        },
      ],
    },
    sink: pipeline,
    events,
    clock: systemClock,
    log,
    metrics,
  });
  await source.start();
  try {
    await waitFor(() => levels.get("cn") === 2, { what: "the UTF-8 string rule to hold" });
    assert.deepEqual({ ...devices.get("plc-1")?.values }, { state: "FAULT", label: "故障" });
    assert.equal(levels.get("fault"), 2);
    assert.equal(levels.get("tripped"), 2);
    // Written as UTF-8, read back the same: the rule clears.
    await source.write("plc-1", "label", "正常");
    await waitFor(() => levels.get("cn") === 0, { what: "the rule to clear after the write" });
    assert.equal(devices.get("plc-1")?.values.label, "正常");
  } finally {
    await source.stop();
    await srv.close();
  }
});
