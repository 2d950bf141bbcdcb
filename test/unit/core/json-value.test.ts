// Display of fact values: JSON has no NaN or ±Infinity, and JSON.stringify would show `null` where a
// rule saw NaN. Alarm details, /status and the event stream show "NaN", "Infinity", "-Infinity".

import assert from "node:assert/strict";
import { test } from "node:test";
import { describe as describeAlarm } from "../../../src/alarms/describe.js";
import { setOwn, toDisplayJson } from "../../../src/core/json-value.js";
import { redact } from "../../../src/core/redact.js";
import type { DeviceState, RuleDefinition } from "../../../src/core/types.js";
import { CompiledRuleImpl } from "../../../src/rules/compile.js";

test("toDisplayJson: non-finite numbers become their names, everything else is returned as is", () => {
  const plain = { a: 1, b: ["x", { c: null }] };
  assert.equal(toDisplayJson(plain), plain, "nothing to encode: the same object, no copy");
  assert.equal(toDisplayJson(Number.NaN), "NaN");
  assert.deepEqual(
    toDisplayJson({ a: Number.POSITIVE_INFINITY, b: [1, Number.NEGATIVE_INFINITY], c: { d: Number.NaN }, s: "NaN" }),
    { a: "Infinity", b: [1, "-Infinity"], c: { d: "NaN" }, s: "NaN" },
  );
  const o: Record<string, unknown> = {};
  setOwn(o, "__proto__", { x: Number.NaN });
  const shown = toDisplayJson(o) as Record<string, unknown>;
  assert.equal(JSON.stringify(shown), '{"__proto__":{"x":"NaN"}}');
});

test("alarm details show the NaN and Infinity a rule saw, not null", () => {
  const def: RuleDefinition = {
    id: "r",
    name: "r",
    key: "meter",
    type: "rule",
    level: 3,
    conditions: {
      any: [
        { fact: "p", operator: "notEqual", value: 5 },
        { fact: "q", operator: "greaterThan", value: 1000 },
        { fact: "env", path: "$.t", operator: "greaterThan", value: 40 },
      ],
    },
  };
  const rule = new CompiledRuleImpl(def, "r.json");
  const device: DeviceState = {
    id: "m1",
    product: "meter",
    status: "online",
    lastSeen: 0,
    source: "mqtt",
    values: { p: Number.NaN, q: Number.POSITIVE_INFINITY, env: { t: Number.POSITIVE_INFINITY } },
  };
  assert.equal(rule.level(device.values), 2);
  const { message, details } = describeAlarm(rule, 2, device, null);
  const stored = JSON.parse(JSON.stringify(details)) as {
    facts: Record<string, unknown>;
    held: { fact: string; actual: unknown }[];
  };
  assert.deepEqual(stored.facts, { p: "NaN", q: "Infinity", env: { t: "Infinity" } });
  assert.deepEqual(
    stored.held.map((h) => [h.fact, h.actual]),
    [
      ["p", "NaN"],
      ["q", "Infinity"],
      ["env", "Infinity"],
    ],
  );
  assert.match(message, /^p NaN != 5/);
});

test("/status and /events (redact) show non-finite values by name and keep a __proto__ fact", () => {
  const values: Record<string, unknown> = {
    v: Number.NaN,
    w: Number.NEGATIVE_INFINITY,
    s: "fault",
    a: [1, Number.POSITIVE_INFINITY],
  };
  setOwn(values, "__proto__", "ordinary");
  const body = JSON.parse(JSON.stringify(redact({ devices: [{ id: "m1", values }] }, ["secret-token"]))) as {
    devices: { values: Record<string, unknown> }[];
  };
  const shown = body.devices[0]?.values ?? {};
  assert.deepEqual(
    { ...shown },
    { v: "NaN", w: "-Infinity", s: "fault", a: [1, "Infinity"], ["__proto__"]: "ordinary" },
  );
  assert.equal(Object.getOwnPropertyDescriptor(shown, "__proto__")?.value, "ordinary");
});
