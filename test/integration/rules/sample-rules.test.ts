// The bundled sample rules, loaded from rules/ by the real loader and driven through the real
// pipeline with the demo meter's readings: nominal → pre-warning → alarm, and the breaker change rule.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import type { AlarmTracker, CompiledRule, ConditionLevel } from "../../../src/core/ports.js";
import type { DeviceState, Reading } from "../../../src/core/types.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { Pipeline } from "../../../src/pipeline/ingest.js";
import { RulesLoader } from "../../../src/rules/loader.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { testBus, testMetrics } from "../../helpers/harness.js";

test("sample rules give the demo meter's swell levels 0 → 1 → 2 and catch the breaker opening", async () => {
  const log = silentLogger();
  const events = testBus(log);
  const clock = new ManualClock();
  const set = new RuleSet();
  const loader = new RulesLoader({ dir: "rules", ruleSet: set, log, clock, events });
  await loader.start();
  try {
    assert.deepEqual(set.problems(), []);
    const breaker = set.get("meter-breaker")?.def;
    assert.deepEqual(
      [breaker?.level, breaker?.period],
      [3, 60],
      "level and interval by name, as the platform writes them",
    );
    const seen: string[] = [];
    const tracker: AlarmTracker = {
      observe(rule: CompiledRule, device: DeviceState, level: ConditionLevel) {
        seen.push(`${rule.def.id}@${device.id}:${level}`);
      },
      rulesChanged() {},
      resolve: async () => null,
      flush: async () => {},
    };
    const devices = new DeviceRegistry({ events });
    const pipeline = new Pipeline({ devices, rules: set, events, log, metrics: testMetrics(), alarms: tracker });
    const read = (values: Reading["values"], deviceId = "meter-01") => {
      seen.length = 0;
      pipeline.ingest({ deviceId, product: "meter", ts: clock.now(), values, source: "modbus" });
      return [...seen];
    };
    assert.deepEqual(read({ voltage: 230.4, current: 12, power_kw: 2.7, energy_kwh: 10, breaker_on: true }), [
      "meter-breaker@meter-01:0",
      "meter-overvoltage@meter-01:0",
    ]);
    assert.deepEqual(read({ voltage: 247, breaker_on: true }), ["meter-overvoltage@meter-01:1"]);
    assert.deepEqual(read({ voltage: 253.1, breaker_on: true }), ["meter-overvoltage@meter-01:2"]);
    assert.deepEqual(read({ voltage: 231, breaker_on: false }), [
      "meter-breaker@meter-01:2",
      "meter-overvoltage@meter-01:0",
    ]);
    assert.deepEqual(
      read({ voltage: 252 }, "meter-02"),
      [],
      "meter-02 has no breaker reading and the overvoltage rule is for meter-01",
    );
  } finally {
    await loader.stop();
  }
});
