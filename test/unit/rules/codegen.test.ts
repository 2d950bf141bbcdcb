// Generated rule code must treat fact names and constants as data: hostile text in a rule cannot
// change the code's structure, and still compares exactly as the closures do.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Condition, RuleDefinition } from "../../../src/core/types.js";
import { generateLevels, generateSource, jsString } from "../../../src/rules/codegen.js";
import { CompiledRuleImpl } from "../../../src/rules/compile.js";

const HOSTILE = [
  '"]; process.exit(1); //',
  "'); process.exit(1); //",
  "\\",
  '\\"',
  "\u2028process.exit(1)\u2029",
  "\n}; process.exit(1); function x() {\n",
  "${process.exit(1)}",
  "`",
  "*/ process.exit(1) /*",
  "constructor",
  "__proto__",
  "</script>",
];

const rule = (id: string, conditions: Condition[]): CompiledRuleImpl =>
  new CompiledRuleImpl(
    { id, name: id, key: "p", type: "rule", level: 1, conditions: { all: conditions } } as RuleDefinition,
    "t.json",
  );

test("hostile fact names and string constants stay data in the generated code", () => {
  const rules = HOSTILE.flatMap((text, i) => [
    rule(`name${i}`, [{ fact: text, operator: "equal", value: 1 }]),
    rule(`value${i}`, [{ fact: "s", operator: "equal", value: text }]),
    rule(`list${i}`, [{ fact: "s", operator: "in", value: [text, "x"] }]),
    rule(`ref${i}`, [{ fact: "s", operator: "equal", value: { fact: text } }]),
  ]);
  const { source } = generateSource(rules);
  assert.ok(!source.includes("\u2028") && !source.includes("\u2029"), "line separators are escaped");
  // No constant is printed: string values only appear through the constants array.
  assert.ok(!source.includes("</script>") || source.includes(jsString("</script>")));
  const { fn, inlined } = generateLevels(rules);
  assert.equal(inlined, rules.length);
  const out = new Uint8Array(rules.length);
  HOSTILE.forEach((text, i) => {
    const facts: Record<string, unknown> = { s: text };
    if (text !== "__proto__") facts[text] = 1;
    if (text === "constructor" || text === "__proto__")
      Object.defineProperty(facts, text, { value: 1, enumerable: true });
    fn(facts, out);
    const expect = rules.map((r) => r.level(facts));
    assert.deepEqual([...out], expect, `facts keyed by ${JSON.stringify(text)}`);
    assert.equal(out[i * 4 + 1], 2, `string constant ${JSON.stringify(text)} compared as data`);
    assert.equal(out[i * 4 + 2], 2, `list constant ${JSON.stringify(text)} compared as data`);
    if (text !== "__proto__") assert.equal(out[i * 4], 2, `fact named ${JSON.stringify(text)} is read`);
  });
});

test("inherited names are undefined facts unless the facts object owns them", () => {
  const r = rule("c", [{ fact: "constructor", operator: "equal", value: { fact: "toString" } }]);
  const { fn } = generateLevels([r]);
  const out = new Uint8Array(1);
  fn({}, out);
  assert.equal(out[0], 2, "both undefined: equal");
  fn({ toString: 1 }, out);
  assert.equal(out[0], 0);
});

test("risky rules (JSON path resolver, `in` a fact) use their closure and keep its results", () => {
  const rules = [
    rule("path", [{ fact: "o", path: "$..b", operator: "equal", value: 3 }]),
    rule("in-fact", [{ fact: "v", operator: "in", value: { fact: "w" } }]),
    rule("in-scalar", [{ fact: "v", operator: "in", value: 5 } as unknown as Condition]),
    rule("plain", [{ fact: "v", operator: "greaterThan", value: 0 }]),
  ];
  const { fn, inlined } = generateLevels(rules);
  assert.equal(inlined, 1);
  const out = new Uint8Array(rules.length);
  for (const facts of [{ o: { a: { b: 3 } }, v: 1, w: [1] }, { v: 1, w: 7 }, {}]) {
    fn(facts, out);
    assert.deepEqual(
      [...out],
      rules.map((r) => r.level(facts)),
    );
  }
  fn({ o: { a: { b: 3 } }, v: 1, w: [1] }, out);
  assert.deepEqual([out[1], out[2], out[3]], [2, 0, 2], "`in` a list fact holds; `in` a number never does");
});
