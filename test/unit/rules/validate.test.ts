import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatProblem } from "../../../src/core/errors.js";
import { parseRuleDocument, validateRuleObject } from "../../../src/rules/validate.js";
import { validateRulesDir } from "../../../src/rules/validate-dir.js";

const base = {
  id: "pump-pressure",
  key: "pump",
  level: 3,
  conditions: { all: [{ fact: "pressure", operator: "greaterThan", value: 6 }] },
};
const lines = (file: string, doc: unknown): string[] =>
  parseRuleDocument(file, typeof doc === "string" ? doc : JSON.stringify(doc)).problems.map(formatProblem);

test("a valid rule is normalized: name defaults to id, type to rule", () => {
  const r = parseRuleDocument("rules/pump.json", JSON.stringify(base));
  assert.deepEqual(r.problems, []);
  assert.equal(r.rules.length, 1);
  assert.equal(r.rules[0]?.name, "pump-pressure");
  assert.equal(r.rules[0]?.type, "rule");
});

test("operator typo names the operator it meant", () => {
  const doc = { ...base, conditions: { all: [{ fact: "pressure", operator: "greaterThen", value: 6 }] } };
  assert.deepEqual(lines("rules/pump.json", doc), [
    "rules/pump.json: $.conditions.all[0].operator: unknown operator 'greaterThen' — did you mean 'greaterThan'?",
  ]);
});

test("unknown key with did-you-mean, without an echo about the key it meant", () => {
  const { level: _l, ...rest } = base;
  assert.deepEqual(lines("rules/pump.json", { ...rest, levle: 3 }), [
    "rules/pump.json: $.levle: unknown key 'levle' in a rule — did you mean 'level'?",
  ]);
});

test("missing key, bad level, bad type, fact required for change", () => {
  const { key: _k, ...rest } = base;
  assert.deepEqual(lines("rules/pump.json", { ...rest, level: 7, type: "chnage" }), [
    "rules/pump.json: $.key: missing required key 'key'",
    "rules/pump.json: $.type: unknown rule type 'chnage' — did you mean 'change'?",
    "rules/pump.json: $.level: level 7 is out of range 0..5",
  ]);
  assert.deepEqual(lines("rules/pump.json", { ...base, type: "change" }), [
    "rules/pump.json: $.fact: missing required key 'fact' for type 'change' — name the metric whose change triggers the rule",
  ]);
});

test("window bounds are checked", () => {
  assert.deepEqual(lines("rules/pump.json", { ...base, start: -5, end: 90000 }), [
    "rules/pump.json: $.start: start -5 is out of range 0..86400 seconds of the day",
    "rules/pump.json: $.end: end 90000 is out of range 0..86400 seconds of the day",
  ]);
});

test("JSON syntax errors carry line:column", () => {
  const text = '{\n  "id": "p",\n  "key": "pump",\n  "level": 3,\n}\n';
  assert.deepEqual(lines("rules/pump.json", text), ["rules/pump.json:5:1: $: invalid JSON: trailing comma before '}'"]);
});

test("condition tree shape: top must be boolean, not takes one, leaves need fact/operator/value", () => {
  const doc = [
    { ...base, id: "a", conditions: { fact: "x", operator: "equal", value: 1 } },
    { ...base, id: "b", conditions: { not: [{ fact: "x", operator: "equal", value: 1 }] } },
    {
      ...base,
      id: "c",
      conditions: {
        all: [
          { fact: "x", operator: "in", value: 5 },
          { fact: "x", value: 1 },
        ],
      },
    },
    { ...base, id: "d", conditions: { any: [{ fact: "x", operator: "lessThan", value: { fact: "y", path: "$.a" } }] } },
  ];
  assert.deepEqual(lines("r.json", doc), [
    "r.json: $[0].conditions: the top of a condition tree must be 'all', 'any' or 'not' — wrap it: {\"all\": [ … ]}",
    'r.json: $[1].conditions.not: \'not\' takes one condition, not a list — use {"not": {"any": [ … ]}}',
    'r.json: $[2].conditions.all[0].value: \'in\' needs a list of values, got a number — e.g. [1, 2, 3] or {"fact": "other"}',
    "r.json: $[2].conditions.all[1].operator: missing required key 'operator'",
  ]);
});

test("duplicate ids in one file and across files (problem in the later file)", async () => {
  assert.deepEqual(lines("r.json", [base, base]), [
    "r.json: $[1].id: duplicate rule id 'pump-pressure' — also at $[0]",
  ]);
  const dir = await mkdtemp(join(tmpdir(), "rules-validate-"));
  try {
    await writeFile(join(dir, "a.json"), JSON.stringify(base));
    await writeFile(join(dir, "b.json"), JSON.stringify([{ ...base, id: "other" }, base]));
    await writeFile(join(dir, "c.json~"), "not json");
    const problems = await validateRulesDir(dir);
    assert.deepEqual(problems.map(formatProblem), [
      `${join(dir, "b.json")}: $[1].id: duplicate rule id 'pump-pressure': already defined in ${join(dir, "a.json")} — rule ids must be unique across all rule files`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the bundled sample rules are valid", async () => {
  assert.deepEqual(await validateRulesDir("rules"), []);
});

test("API bodies are validated the same way", () => {
  const v = validateRuleObject("rules/x.json", { ...base, actions: { alarm: "yes", workOrder: { priority: 9 } } });
  assert.equal(v.rule, null);
  assert.deepEqual(
    v.problems.map((p) => `${p.path}: ${p.message}`),
    [
      "$.actions.alarm: expected true or false, got a string",
      "$.actions.workOrder.priority: priority 9 is out of range 0..3",
    ],
  );
});
