import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatProblem } from "../../../src/core/errors.js";
import { derivedIds, newRuleId, parseLevel, parsePeriod } from "../../../src/rules/normalize.js";
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
    "rules/pump.json: $.level: level 7 is out of range 0..5 — accepted: 0–5 or one of 'fatal', 'critical', 'warning', 'info'",
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

// ---- rules as the platform writes them ----

test("id and level are optional: a file's rule gets an id from the file name, level 2", () => {
  const { id: _i, level: _l, ...bare } = base;
  const one = parseRuleDocument("rules/pump-pressure.json", JSON.stringify(bare));
  assert.deepEqual(one.problems, []);
  assert.equal(one.rules[0]?.id, "pump-pressure");
  assert.equal(one.rules[0]?.level, 2);
  assert.deepEqual(one.docs[0], bare, "the document as written is kept apart");
  const many = parseRuleDocument("rules/pumps.json", JSON.stringify([bare, { ...bare, name: "dry" }, base]));
  assert.deepEqual(
    many.rules.map((r) => r.id),
    ["pumps.0", "pumps.dry", "pump-pressure"],
  );
});

test("derived ids survive edits elsewhere in the file when rules have names", () => {
  const a = { name: "hot" };
  const b = { name: "dry" };
  assert.deepEqual(derivedIds("rules/p.json", [a, b], true), ["p.hot", "p.dry"]);
  assert.deepEqual(derivedIds("rules/p.json", [{ name: "new" }, b, a], true), ["p.new", "p.dry", "p.hot"]);
  // Same name twice, a name unusable in an id, or an id of its own: position (from 0) or nothing.
  assert.deepEqual(derivedIds("r/x y.json", [a, a, { name: "泵" }, { id: "own" }], true), [
    "x_y.0",
    "x_y.1",
    "x_y.2",
    undefined,
  ]);
  assert.deepEqual(derivedIds("r/_draft.json", [a], false), ["r_draft"]);
  const clash = [
    { ...base, id: "p.hot" },
    { ...base, id: undefined, name: "hot" },
  ];
  assert.deepEqual(lines("rules/p.json", clash), [
    `rules/p.json: $[1].id: duplicate rule id 'p.hot' — also at $[0]; give the rule its own "id"`,
  ]);
});

test("levels by name or number, periods by name, seconds or numeric string; interval is period", () => {
  assert.deepEqual(["fatal", "critical", "warning", "info", "FATAL", 0, 5, "loud", 6, 2.5, "3", true].map(parseLevel), [
    5,
    4,
    3,
    1,
    5,
    0,
    5,
    null,
    null,
    null,
    null,
    null,
  ]);
  assert.deepEqual(parsePeriod("ONCE_A_WEEK"), { seconds: 604_800, off: false });
  assert.deepEqual(parsePeriod("off"), { seconds: 0, off: true });
  assert.deepEqual(parsePeriod(" 600 "), { seconds: 600, off: false });
  assert.deepEqual(
    [parsePeriod(-1), parsePeriod("soon"), parsePeriod(""), parsePeriod(null)],
    [null, null, null, null],
  );
  const rule = (over: Record<string, unknown>) => validateRuleObject("rules/x.json", { ...base, ...over }).rule;
  assert.equal(rule({ level: "critical" })?.level, 4);
  assert.equal(rule({ interval: "ONCE_A_MINUTE" })?.period, 60);
  assert.equal(rule({ interval: "3600", period: "ONCE_AN_HOUR" })?.period, 3600, "the same setting twice is fine");
  const off = rule({ period: "OFF" });
  assert.equal(off?.off, true);
  assert.equal(off?.period, undefined);
  assert.equal(Object.hasOwn(off ?? {}, "interval"), false);
  const once = rule({ interval: "ONCE" });
  assert.equal(once?.period, 0);
  assert.equal(once?.off, undefined);
});

test("platform fields are kept; email/wechat and a non-alphanumeric name are warnings", () => {
  const doc = {
    ...base,
    name: "pump-pressure",
    description: "d",
    recipient: { id: "r1" },
    ownerId: "o1",
    created: 1,
    updated: "2026-01-05T10:00:00Z",
    actions: { email: "a@b.c", wechat: "w", webhook: "https://h.example/x" },
  };
  const v = validateRuleObject("rules/x.json", doc);
  assert.deepEqual(v.problems.map(formatProblem), [
    "rules/x.json: $.name: the platform allows only letters and digits in a rule name, got 'pump-pressure' — rename it before the rule goes to the platform",
  ]);
  assert.deepEqual(v.doc, doc);
  assert.deepEqual(v.rule?.recipient, { id: "r1" });
  assert.equal(v.rule?.updated, "2026-01-05T10:00:00Z");
  assert.equal(v.rule?.actions?.wechat, "w");
  assert.equal(Object.hasOwn(v.rule ?? {}, "ownerId"), false, "not part of the definition");
});

test("wrong types are refused with path and the accepted values", () => {
  assert.deepEqual(
    lines("rules/x.json", {
      ...base,
      level: "loud",
      period: "hourly",
      interval: [60],
      recipient: 7,
      created: true,
      actions: { email: ["a@b.c"] },
    }),
    [
      "rules/x.json: $.level: expected a level 0–5 or one of 'fatal', 'critical', 'warning', 'info', got 'loud'",
      "rules/x.json: $.period: expected a period in seconds (a number ≥ 0) or one of 'ONCE', 'ONCE_A_MINUTE', 'ONCE_AN_HOUR', 'ONCE_A_DAY', 'ONCE_A_WEEK', 'OFF', got 'hourly'",
      "rules/x.json: $.interval: expected an interval in seconds (a number ≥ 0) or one of 'ONCE', 'ONCE_A_MINUTE', 'ONCE_AN_HOUR', 'ONCE_A_DAY', 'ONCE_A_WEEK', 'OFF', got an array",
      "rules/x.json: $.recipient: expected a recipient id (a string) or a recipient object, got a number",
      "rules/x.json: $.created: expected epoch milliseconds or a date string, got a boolean",
      "rules/x.json: $.actions.email: expected a string (the email recipient), got an array",
    ],
  );
  assert.deepEqual(lines("rules/x.json", { ...base, level: "fatl", interval: "ONCE_A_HOUR" }), [
    "rules/x.json: $.level: expected a level 0–5 or one of 'fatal', 'critical', 'warning', 'info', got 'fatl' — did you mean 'fatal'?",
    "rules/x.json: $.interval: expected an interval in seconds (a number ≥ 0) or one of 'ONCE', 'ONCE_A_MINUTE', 'ONCE_AN_HOUR', 'ONCE_A_DAY', 'ONCE_A_WEEK', 'OFF', got 'ONCE_A_HOUR' — did you mean 'ONCE_AN_HOUR'?",
  ]);
  assert.deepEqual(lines("rules/x.json", { ...base, period: 300, interval: "OFF" }), [
    "rules/x.json: $.interval: 'interval' (OFF) and 'period' (300 s) disagree: they are the same setting — keep one of them",
  ]);
  assert.deepEqual(lines("rules/x.json", { ...base, levle: 3, intreval: 60 }), [
    "rules/x.json: $.levle: unknown key 'levle' in a rule — did you mean 'level'?",
    "rules/x.json: $.intreval: unknown key 'intreval' in a rule — did you mean 'interval'?",
  ]);
});

test("ids for rules added through the API look like the platform's ObjectIds", () => {
  const id = newRuleId(Date.UTC(2026, 0, 5));
  assert.match(id, /^[0-9a-f]{24}$/);
  assert.equal(Number.parseInt(id.slice(0, 8), 16), Date.UTC(2026, 0, 5) / 1000);
  assert.notEqual(newRuleId(0), newRuleId(0));
});

test("actions: channel:<name> names a hook's channel; its name and value are checked", () => {
  const base = {
    id: "r",
    name: "r",
    key: "meter",
    conditions: { all: [{ fact: "v", operator: "greaterThan", value: 1 }] },
  };
  const ok = validateRuleObject("rules/x.json", { ...base, actions: { "channel:sms": "+420123456789" } });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.rule?.actions?.["channel:sms"], "+420123456789");
  const bad = validateRuleObject("rules/x.json", {
    ...base,
    actions: { "channel:s m": "x", "channel:pager": 5, emial: "a@b.c" },
  });
  assert.equal(bad.rule, null);
  assert.deepEqual(
    bad.problems.map((p) => `${p.path}: ${p.message}`),
    [
      "$.actions.emial: unknown key 'emial' in actions",
      `$.actions["channel:s m"]: invalid channel name 's m'`,
      `$.actions["channel:pager"]: expected a string (the channel:pager recipient), got a number`,
    ],
  );
});
