import assert from "node:assert/strict";
import { test } from "node:test";
import type { CompiledRule, ConditionLevel } from "../../../src/core/ports.js";
import type { Reading, RuleDefinition } from "../../../src/core/types.js";
import { RuleSet } from "../../../src/rules/rule-set.js";

const hot = { all: [{ fact: "v", operator: "greaterThan" as const, value: 10 }] };
const rule = (over: Partial<RuleDefinition>): RuleDefinition => ({
  id: "r",
  name: "r",
  key: "meter",
  type: "rule",
  level: 3,
  conditions: hot,
  ...over,
});
// UTC so that window tests do not depend on the machine's zone.
const utc = () => new RuleSet({ tzOffsetMs: () => 0 });
const MIDNIGHT = Date.UTC(2026, 0, 1);

function run(set: RuleSet, r: Partial<Reading>): string[] {
  const out: string[] = [];
  const reading: Reading = { deviceId: "m1", product: "meter", ts: MIDNIGHT, values: {}, source: "mqtt", ...r };
  set.evaluate(reading, reading.values, (rule: CompiledRule, level: ConditionLevel) =>
    out.push(`${rule.def.id}:${level}`),
  );
  return out;
}

test("index: a reading meets only its product's rules with did empty or equal", () => {
  const set = utc();
  set.replaceFile("a.json", [
    rule({ id: "all-meters" }),
    rule({ id: "m1-only", did: "m1" }),
    rule({ id: "m2-only", did: "m2" }),
    rule({ id: "pumps", key: "pump" }),
    rule({ id: "off", isEnable: false }),
  ]);
  assert.deepEqual(run(set, { values: { v: 11 } }), ["all-meters:2", "m1-only:2"]);
  assert.deepEqual(run(set, { deviceId: "m2", values: { v: 1 } }), ["all-meters:0", "m2-only:0"]);
  assert.deepEqual(run(set, { product: "pump", values: { v: 1 } }), ["pumps:0"]);
  assert.deepEqual(run(set, { product: "other" }), []);
  assert.equal(set.rules().length, 5, "disabled rules are listed but not evaluated");
});

test("warnConditions give level 1", () => {
  const set = utc();
  set.replaceFile("a.json", [rule({ warnConditions: { all: [{ fact: "v", operator: "greaterThan", value: 5 }] } })]);
  assert.deepEqual(
    [3, 7, 12].map((v) => run(set, { values: { v } })[0]),
    ["r:0", "r:1", "r:2"],
  );
});

test("change: evaluated on first sighting and when the value differs, per device", () => {
  const set = utc();
  set.replaceFile("a.json", [
    rule({
      type: "change",
      fact: "breaker_on",
      conditions: { all: [{ fact: "breaker_on", operator: "equal", value: false }] },
    }),
  ]);
  assert.deepEqual(run(set, { values: { breaker_on: true } }), ["r:0"]);
  assert.deepEqual(run(set, { values: { breaker_on: true, v: 1 } }), []);
  assert.deepEqual(run(set, { values: { v: 1 } }), [], "a reading without the fact is no change");
  assert.deepEqual(run(set, { values: { breaker_on: false } }), ["r:2"]);
  assert.deepEqual(run(set, { values: { breaker_on: false } }), []);
  assert.deepEqual(
    run(set, { deviceId: "m2", values: { breaker_on: false } }),
    ["r:2"],
    "other device: first sighting",
  );
  // Reloading an unrelated edit keeps what the rule saw.
  set.replaceFile("a.json", [
    rule({
      type: "change",
      fact: "breaker_on",
      title: "edited",
      conditions: { all: [{ fact: "breaker_on", operator: "equal", value: false }] },
    }),
  ]);
  assert.deepEqual(run(set, { values: { breaker_on: false } }), []);
  assert.deepEqual(run(set, { values: { breaker_on: true } }), ["r:0"]);
});

test("event: only when the reading reports the named event", () => {
  const set = utc();
  set.replaceFile("a.json", [rule({ type: "event", fact: "door_open", conditions: { all: [] } })]);
  assert.deepEqual(run(set, { values: { v: 1 } }), []);
  assert.deepEqual(run(set, { event: "door_closed" }), []);
  assert.deepEqual(run(set, { event: "door_open" }), ["r:2"]);
});

test("window: start/end in seconds of the local day, wrapping midnight", () => {
  const set = utc();
  set.replaceFile("a.json", [
    rule({ id: "day", start: 8 * 3600, end: 18 * 3600 }),
    rule({ id: "night", start: 22 * 3600, end: 6 * 3600 }),
    rule({ id: "always", start: 0, end: 86400 }),
  ]);
  const at = (h: number, m = 0) => run(set, { ts: MIDNIGHT + (h * 3600 + m * 60) * 1000, values: { v: 11 } });
  assert.deepEqual(at(7, 59), ["always:2"]);
  assert.deepEqual(at(8), ["day:2", "always:2"]);
  assert.deepEqual(at(17, 59), ["day:2", "always:2"]);
  assert.deepEqual(at(18), ["always:2"]);
  assert.deepEqual(at(23), ["night:2", "always:2"]);
  assert.deepEqual(at(0, 30), ["night:2", "always:2"]);
  assert.deepEqual(at(6), ["always:2"]);
});

test("window uses the local offset (UTC+2: 07:00 UTC is 09:00 local)", () => {
  const set = new RuleSet({ tzOffsetMs: () => 2 * 3600_000 });
  set.replaceFile("a.json", [rule({ id: "day", start: 8 * 3600, end: 18 * 3600 })]);
  assert.deepEqual(run(set, { ts: MIDNIGHT + 7 * 3600_000, values: { v: 11 } }), ["day:2"]);
  assert.deepEqual(run(set, { ts: MIDNIGHT + 16.5 * 3600_000, values: { v: 11 } }), []);
});

test("files: duplicate id refused (last good stays), removal, problems, change listeners", () => {
  const set = utc();
  const counts: number[] = [];
  set.onChange((n) => counts.push(n));
  assert.deepEqual(set.replaceFile("a.json", [rule({ id: "x" })]), []);
  set.replaceFile("b.json", [rule({ id: "y" })]);
  const refused = set.replaceFile("b.json", [rule({ id: "x" })]);
  assert.equal(refused[0]?.message, "duplicate rule id 'x': already defined in a.json");
  assert.deepEqual(
    set.rules().map((r) => `${r.file}:${r.def.id}`),
    ["a.json:x", "b.json:y"],
  );
  assert.equal(set.problems().length, 1);
  set.setProblems("a.json", [{ file: "a.json", path: "$", message: "broken" }]);
  assert.equal(set.rules().length, 2, "a broken file keeps its last good rules");
  set.removeFile("a.json");
  assert.deepEqual(set.replaceFile("b.json", [rule({ id: "x" })]), []);
  assert.deepEqual(set.problems(), []);
  assert.deepEqual(counts, [1, 2, 1, 1]);
});

test("reporting: first evaluation always, then non-zero levels and changes only", () => {
  const set = utc();
  set.replaceFile("a.json", [rule({ id: "r" }), rule({ id: "other", key: "pump" })]);
  assert.deepEqual(run(set, { values: { v: 1 } }), ["r:0"], "first evaluation of (r, m1) is reported");
  assert.deepEqual(run(set, { values: { v: 2 } }), [], "a steady 0 is not reported again");
  assert.deepEqual(run(set, { deviceId: "m2", values: { v: 1 } }), ["r:0"], "per device");
  assert.deepEqual(run(set, { values: { v: 11 } }), ["r:2"]);
  assert.deepEqual(run(set, { values: { v: 12 } }), ["r:2"], "non-zero levels are always reported");
  assert.deepEqual(run(set, { values: { v: 1 } }), ["r:0"], "2 → 0 is reported");
  assert.deepEqual(run(set, { values: { v: 1 } }), []);
  // Reloading any file starts over: the next evaluation reports again.
  set.replaceFile("b.json", [rule({ id: "x", key: "pump" })]);
  assert.deepEqual(run(set, { values: { v: 1 } }), ["r:0"], "first evaluation after a reload is reported");
  assert.deepEqual(run(set, { values: { v: 1 } }), []);
});

test("reporting: a gated-out rule does not touch its last reported level", () => {
  const set = utc();
  set.replaceFile("a.json", [
    rule({
      id: "ev",
      type: "event",
      fact: "door",
      conditions: { all: [{ fact: "v", operator: "greaterThan", value: 10 }] },
    }),
    rule({ id: "day", start: 8 * 3600, end: 18 * 3600 }),
  ]);
  const at = (h: number, r: Partial<Reading>) => run(set, { ts: MIDNIGHT + h * 3600_000, ...r });
  assert.deepEqual(at(9, { event: "door", values: { v: 11 } }), ["ev:2", "day:2"]);
  assert.deepEqual(at(20, { values: { v: 1 } }), [], "gated out: no result");
  assert.deepEqual(at(9, { event: "door", values: { v: 1 } }), ["ev:0", "day:0"], "2 → 0 across the gap");
  assert.deepEqual(at(9, { event: "door", values: { v: 1 } }), []);
});

test("a rule's result reported from inside onResult does not disturb the outer evaluation", () => {
  const set = utc();
  set.replaceFile("a.json", [
    rule({ id: "a" }),
    rule({ id: "b", conditions: { all: [{ fact: "w", operator: "equal", value: 1 }] } }),
  ]);
  const out: string[] = [];
  const outer: Reading = { deviceId: "m1", product: "meter", ts: MIDNIGHT, values: { v: 11, w: 1 }, source: "mqtt" };
  const inner: Reading = { deviceId: "m2", product: "meter", ts: MIDNIGHT, values: { v: 1 }, source: "mqtt" };
  let nested = false;
  set.evaluate(outer, outer.values, (r, level) => {
    out.push(`${r.def.id}:${level}`);
    if (!nested) {
      nested = true;
      set.evaluate(inner, inner.values, (r2, l2) => out.push(`inner ${r2.def.id}:${l2}`));
    }
  });
  assert.deepEqual(out, ["a:2", "inner a:0", "inner b:0", "b:2"]);
});

test("reporting: last levels survive many devices and growth during a nested evaluate", () => {
  const set = utc();
  set.replaceFile("a.json", [
    rule({ id: "a" }),
    rule({ id: "b", conditions: { all: [{ fact: "w", operator: "equal", value: 1 }] } }),
  ]);
  for (let d = 0; d < 64; d++) assert.deepEqual(run(set, { deviceId: `d${d}`, values: { v: 1 } }), ["a:0", "b:0"]);
  for (let d = 0; d < 64; d++) assert.deepEqual(run(set, { deviceId: `d${d}`, values: { v: 1 } }), [], `d${d} steady`);
  // d0 goes to 2 on `a`; its onResult evaluates a 65th device, which grows the table of last levels.
  const outer: Reading = { deviceId: "d0", product: "meter", ts: MIDNIGHT, values: { v: 11, w: 1 }, source: "mqtt" };
  const got: string[] = [];
  set.evaluate(outer, outer.values, (r, level) => {
    got.push(`${r.def.id}:${level}`);
    const inner: Reading = { deviceId: "new", product: "meter", ts: MIDNIGHT, values: { v: 1 }, source: "mqtt" };
    if (got.length === 1) set.evaluate(inner, inner.values, (r2, l2) => got.push(`new ${r2.def.id}:${l2}`));
  });
  assert.deepEqual(got, ["a:2", "new a:0", "new b:0", "b:2"]);
  assert.deepEqual(
    run(set, { deviceId: "d0", values: { v: 1 } }),
    ["a:0", "b:0"],
    "d0's levels were kept through the growth",
  );
  assert.deepEqual(run(set, { deviceId: "d0", values: { v: 1 } }), []);
  assert.deepEqual(run(set, { deviceId: "new", values: { v: 1 } }), []);
  for (let d = 1; d < 64; d++)
    assert.deepEqual(run(set, { deviceId: `d${d}`, values: { v: 1 } }), [], `d${d} still steady`);
});
