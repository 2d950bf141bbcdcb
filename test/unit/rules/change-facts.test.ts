// `change` rules on string, array and object facts: "changed" means a different value, compared by
// content — a device resending the same object every second must not fire the rule every second.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Reading } from "../../../src/core/types.js";
import { RuleSet } from "../../../src/rules/rule-set.js";

test("a change rule on an array fact fires when the content changes, not when the same content is resent", () => {
  const set = new RuleSet();
  set.replaceFile("c.json", [
    {
      id: "alarms-changed",
      name: "alarms-changed",
      key: "plc",
      type: "change",
      fact: "alarms",
      level: 2,
      conditions: { all: [{ fact: "alarms", operator: "contains", value: "overtemp" }] },
    },
  ]);
  const seen: number[] = [];
  const send = (alarms: unknown) => {
    const values = JSON.parse(JSON.stringify({ alarms })) as Reading["values"];
    const reading: Reading = { deviceId: "d1", product: "plc", ts: 0, values, source: "mqtt" };
    set.evaluate(reading, values, (_r, level) => seen.push(level));
  };
  send(["overtemp"]);
  send(["overtemp"]);
  send({ a: ["overtemp"] });
  send(["overtemp"]);
  send(["overtemp"]);
  // Reported: first (2), the object (0: the level changed), the array again (2); identical resends gate.
  assert.deepEqual(seen, [2, 0, 2]);
});
