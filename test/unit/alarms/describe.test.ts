import assert from "node:assert/strict";
import { test } from "node:test";
import { buildAlarm, describe } from "../../../src/alarms/describe.js";
import type { CompiledRule } from "../../../src/core/ports.js";
import type { DeviceState, RuleDefinition } from "../../../src/core/types.js";

const device: DeviceState = {
  id: "meter-01",
  product: "meter",
  name: "Main incomer",
  areaId: 12,
  location: { building: "A" },
  status: "online",
  lastSeen: 0,
  // An object-valued fact (MQTT attributes merged into facts) for `path` conditions.
  values: { voltage: 253.123456, current: 80, limit: 75, meta: { temp: 91 } } as unknown as DeviceState["values"],
  source: "modbus",
};

function rule(over: Partial<RuleDefinition>): CompiledRule {
  const def: RuleDefinition = {
    id: "r",
    name: "overvoltage",
    key: "meter",
    type: "rule",
    level: 4,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
    ...over,
  };
  return { def, file: "r.json", level: () => 0 };
}

test("message names the first condition that holds, with the title", () => {
  const r = rule({
    title: "Over-voltage on incomer",
    conditions: {
      any: [
        { fact: "current", operator: "lessThan", value: 10 },
        { fact: "voltage", operator: "greaterThan", value: 250 },
      ],
    },
  });
  assert.equal(describe(r, 2, device, null).message, "voltage 253.123 > 250 (Over-voltage on incomer)");
});

test("a fact compared with another fact, a path, and a rule message", () => {
  const vsFact = rule({
    conditions: { all: [{ fact: "current", operator: "greaterThanInclusive", value: { fact: "limit" } }] },
  });
  assert.equal(describe(vsFact, 2, device, null).message, "current 80 >= 75 (overvoltage)");
  const path = rule({ conditions: { all: [{ fact: "meta", path: "$.temp", operator: "greaterThan", value: 90 }] } });
  assert.equal(describe(path, 2, device, null).message, "meta.temp 91 > 90 (overvoltage)");
  assert.equal(describe(rule({ message: "Call the electrician" }), 2, device, null).message, "Call the electrician");
  const none = rule({ conditions: { not: { fact: "voltage", operator: "lessThan", value: 1 } } });
  assert.equal(describe(none, 2, device, null).message, "overvoltage", "no leaf holds: the title");
});

test("pre-warning describes warnConditions; details carry facts, thresholds and what held", () => {
  const r = rule({ warnConditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 245 }] } });
  const { message, details } = describe(r, 1, device, {
    deviceId: "meter-01",
    product: "meter",
    ts: 42,
    values: { voltage: 247 },
    source: "modbus",
  });
  assert.equal(message, "voltage 247 > 245 (overvoltage)");
  assert.deepEqual(details.facts, { voltage: 247 });
  assert.equal((details.thresholds as unknown[]).length, 2);
  assert.deepEqual(details.held, [{ fact: "voltage", operator: "greaterThan", threshold: 245, actual: 247 }]);
  assert.equal(details.levelReached, 1);
  assert.equal(details.readingTs, 42);
});

test("buildAlarm fills the platform fields from the rule and the device", () => {
  const a = buildAlarm("id1", rule({ period: 300, type: "change" }), device, 2, null, 1000);
  assert.equal(a.title, "overvoltage");
  assert.equal(a.type, "change");
  assert.equal(a.period, 300);
  assert.equal(a.level, 4);
  assert.deepEqual(a.resource, { id: "meter-01", product: "meter", name: "Main incomer", areaId: 12 });
  assert.deepEqual(a.location, { building: "A" });
  assert.equal(a.created, 1000);
  assert.equal(a.resolvedAt, null);
});
