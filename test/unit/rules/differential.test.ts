// Differential test: compiled rules against json-rules-engine itself on randomized rules and facts
// (fixed seed). Any disagreement is a bug in the compiler; the failure message prints the case.

import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../../../src/core/log.js";
import type { Condition, TopLevelCondition } from "../../../src/core/types.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { Pipeline } from "../../../src/pipeline/ingest.js";
import { generateLevels } from "../../../src/rules/codegen.js";
import {
  CompiledRuleImpl,
  compileCondition,
  isStrictFacts,
  noteFacts,
  simplePathSegments,
} from "../../../src/rules/compile.js";
import { ReferenceCondition, ReferenceRule } from "../../../src/rules/reference.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { SubscriptionMapper } from "../../../src/sources/mqtt/subscription.js";
import { everyTypeGenerator, mulberry32, OPERATORS, toPayload } from "../../helpers/fact-types.js";
import { testBus, testMetrics } from "../../helpers/harness.js";

// The operator list is the test's own (test/helpers/fact-types.ts), not src/rules/validate's, so a
// missing operator in the validator cannot silently shrink the test.
const FACTS = ["a", "b", "c", "obj", "arr", "s", "missing", "constructor"];
const PATHS = ["$.x", "$.y.z", "$.arr[1]", "$.arr[0]", "$.arr.length", "$.s.length", "$.y", "$.nope.x", "$[0]"];
const COMPLEX_PATHS = ["$..z", "$.arr[*]", "$.y.*", "$", "x", "$.arr[-1:]"];

function generator(seed: number) {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const scalar = (): unknown =>
    pick<() => unknown>([
      () => Math.round((r() - 0.5) * 20),
      () => (r() - 0.5) * 500,
      () => 250,
      () => 0,
      () => -0,
      () => pick(["12", "12.5", "-3", "1e3", " 5", "12abc", "abc", "", "250", "0x10", "Infinity"]),
      () => r() < 0.5,
      () => null,
      () => undefined,
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
    ])();
  const value = (depth = 0): unknown => {
    const k = r();
    if (k < 0.6 || depth > 1) return scalar();
    if (k < 0.8) return Array.from({ length: Math.floor(r() * 4) }, () => scalar());
    return {
      x: scalar(),
      y: r() < 0.7 ? { z: scalar() } : scalar(),
      arr: Array.from({ length: Math.floor(r() * 3) }, () => scalar()),
      s: pick(["abc", "", "12"]),
      ...(r() < 0.2 ? { 0: scalar() } : {}),
    };
  };
  const facts = (): Record<string, unknown> => {
    const f: Record<string, unknown> = {};
    for (const name of FACTS) {
      if (name === "missing") continue;
      if (name === "constructor" && r() < 0.7) continue;
      if (r() < 0.15) continue;
      f[name] = name === "obj" && r() < 0.8 ? value(1) : name === "arr" && r() < 0.7 ? value(1) : value();
    }
    if (r() < 0.1) f.b = undefined;
    return f;
  };
  const leaf = (): Condition => {
    const op = pick(OPERATORS);
    const c: Record<string, unknown> = { fact: pick(FACTS), operator: op };
    const v = r();
    if (v < 0.2) {
      const ref: Record<string, unknown> = { fact: pick(FACTS) };
      if (r() < 0.3) ref.path = r() < 0.8 ? pick(PATHS) : pick(COMPLEX_PATHS);
      c.value = ref;
    } else if ((op === "in" || op === "notIn") && v < 0.85) {
      c.value = r() < 0.8 ? Array.from({ length: Math.floor(r() * 4) }, () => scalar()) : pick(["abc12", "", "null"]);
    } else {
      c.value = value(1);
    }
    if (r() < 0.3) c.path = r() < 0.8 ? pick(PATHS) : pick(COMPLEX_PATHS);
    if (r() < 0.05) c.params = { p: 1 };
    return c as unknown as Condition;
  };
  const node = (depth: number): Condition => {
    const k = r();
    if (depth >= 3 || k < 0.45) return leaf();
    if (k < 0.6) return { not: node(depth + 1) };
    const list = Array.from({ length: Math.floor(r() * 5) }, () => node(depth + 1));
    return k < 0.8 ? { all: list } : { any: list };
  };
  const top = (): TopLevelCondition => {
    const k = r();
    const list = Array.from({ length: Math.floor(r() * 4) }, () => node(1));
    if (k < 0.45) return { all: list };
    if (k < 0.9) return { any: list };
    return { not: node(1) };
  };
  return { facts, top, r };
}

test("compiled levels (closures and generated code) equal json-rules-engine's on 3000 random rules × 4 fact sets (seed 20260101)", async () => {
  const g = generator(20260101);
  let cases = 0;
  let throwing = 0;
  let inlined = 0;
  const seenOps = new Set<string>();
  const out = new Uint8Array(1);
  for (let i = 0; i < 3000; i++) {
    const conditions = g.top();
    const warnConditions = g.r() < 0.5 ? g.top() : undefined;
    const json = JSON.stringify({ conditions, warnConditions });
    for (const m of json.matchAll(/"operator":"(\w+)"/g)) seenOps.add(m[1] as string);
    const def = { conditions, ...(warnConditions ? { warnConditions } : {}) };
    const compiled = new CompiledRuleImpl(
      { id: `r${i}`, name: `r${i}`, key: "p", type: "rule", level: 1, ...def },
      "test.json",
    );
    const ref = new ReferenceRule(def);
    const generated = generateLevels([compiled]);
    inlined += generated.inlined;
    for (let j = 0; j < 4; j++) {
      const facts = g.facts();
      const want = await ref.level(facts);
      const got = compiled.level(facts);
      cases++;
      if ((await new ReferenceCondition(conditions).outcome(facts)) === "throws") throwing++;
      assert.equal(got, want, `rule ${json}\nfacts ${JSON.stringify(facts)} (b present: ${"b" in facts})`);
      out[0] = 9;
      generated.fn(facts, out);
      assert.equal(out[0], want, `generated: rule ${json}\nfacts ${JSON.stringify(facts)}`);
    }
  }
  assert.equal(cases, 12000);
  assert.ok(inlined > 1000, `most random rules were inlined, not left to their closure (${inlined})`);
  assert.equal(seenOps.size, 10, "every operator was exercised");
  assert.ok(throwing > 10, `cases where the engine rejects were exercised (${throwing})`);
});

test("targeted edge cases agree with the engine", async () => {
  const cases: [TopLevelCondition, Record<string, unknown>][] = [
    [{ all: [] }, {}],
    [{ any: [] }, {}],
    [{ not: { any: [] } }, {}],
    [{ all: [{ fact: "v", operator: "greaterThan", value: 250 }] }, { v: "251" }],
    [{ all: [{ fact: "v", operator: "greaterThan", value: 250 }] }, { v: "251abc" }],
    [{ all: [{ fact: "v", operator: "greaterThan", value: 2 }] }, { v: [5] }],
    [{ all: [{ fact: "v", operator: "lessThan", value: 2 }] }, { v: null }],
    [{ all: [{ fact: "v", operator: "lessThan", value: 2 }] }, {}],
    [{ all: [{ fact: "v", operator: "lessThan", value: 2 }] }, { v: true }],
    [{ all: [{ fact: "v", operator: "in", value: "abc123" }] }, { v: 12 }],
    [{ all: [{ fact: "v", operator: "in", value: { fact: "w" } }] }, { v: 1, w: 5 }],
    [
      {
        any: [
          { fact: "v", operator: "equal", value: 1 },
          { fact: "v", operator: "in", value: { fact: "w" } },
        ],
      },
      { v: 1 },
    ],
    [{ all: [{ fact: "o", path: "$.a.b", operator: "equal", value: 3 }] }, { o: { a: { b: 3 } } }],
    [{ all: [{ fact: "o", path: "$.a.b", operator: "equal", value: 3 }] }, { o: 3 }],
    [{ all: [{ fact: "o", path: "$.length", operator: "equal", value: 2 }] }, { o: [1, 2] }],
    [{ all: [{ fact: "o", path: "$..b", operator: "equal", value: 3 }] }, { o: { a: { b: 3 } } }],
    [{ all: [{ fact: "o", operator: "equal", value: { fact: "o" } }] }, { o: { a: 1 } }],
    [{ all: [{ fact: "constructor", operator: "equal", value: { fact: "toString" } }] }, {}],
    [{ all: [{ fact: "x", operator: "equal", value: { a: 1 } }] }, { x: { a: 1 } }],
    [{ all: [{ fact: "x", operator: "equal", value: { fact: 5 } }] }, { x: 1, 5: 1 }],
  ];
  const out = new Uint8Array(1);
  for (const [tree, facts] of cases) {
    const want = await new ReferenceCondition(tree).holds(facts);
    assert.equal(compileCondition(tree)(facts), want, `${JSON.stringify(tree)} on ${JSON.stringify(facts)}`);
    const rule = new CompiledRuleImpl(
      { id: "t", name: "t", key: "p", type: "rule", level: 1, conditions: tree },
      "t.json",
    );
    generateLevels([rule]).fn(facts, out);
    assert.equal(out[0], want ? 2 : 0, `generated: ${JSON.stringify(tree)} on ${JSON.stringify(facts)}`);
  }
});

test("simple JSON paths are inlined, others use the engine's resolver", () => {
  assert.deepEqual(simplePathSegments("$.a.b"), ["a", "b"]);
  assert.deepEqual(simplePathSegments("$.a[0].c"), ["a", "0", "c"]);
  assert.equal(simplePathSegments("$..a"), null);
  assert.equal(simplePathSegments("$.a[*]"), null);
  assert.equal(simplePathSegments("a.b"), null);
});

test("many rules in one generated function agree with each rule's closure", () => {
  const g = generator(7);
  const rules = Array.from({ length: 200 }, (_, i) => {
    const warnConditions = g.r() < 0.5 ? g.top() : undefined;
    return new CompiledRuleImpl(
      {
        id: `r${i}`,
        name: `r${i}`,
        key: "p",
        type: "rule",
        level: 1,
        conditions: g.top(),
        ...(warnConditions ? { warnConditions } : {}),
      },
      "t.json",
    );
  });
  const { fn, inlined } = generateLevels(rules);
  assert.ok(inlined > 50 && inlined < 200, `both inlined and closure rules are mixed (${inlined})`);
  const out = new Uint8Array(rules.length);
  for (let j = 0; j < 200; j++) {
    const facts = g.facts();
    fn(facts, out);
    rules.forEach((r, i) => {
      assert.equal(out[i], r.level(facts), `rule ${i} on ${JSON.stringify(facts)}`);
    });
  }
});

test("facts of every JSON type × every operator, with path and fact-to-fact values: compiled = json-rules-engine (seed 10)", async () => {
  const g = everyTypeGenerator(10);
  const out = new Uint8Array(1);
  const seen = new Map<string, Set<string>>();
  let held = 0;
  let strict = 0;
  for (let i = 0; i < 1200; i++) {
    // Every operator leads a rule in turn, so each one meets every fact type.
    const conditions = g.top(OPERATORS[i % OPERATORS.length]);
    const warnConditions = g.r() < 0.3 ? g.top() : undefined;
    const def = { conditions, ...(warnConditions ? { warnConditions } : {}) };
    const compiled = new CompiledRuleImpl(
      { id: `r${i}`, name: `r${i}`, key: "p", type: "rule", level: 1, ...def },
      "t.json",
    );
    const ref = new ReferenceRule(def);
    const generated = generateLevels([compiled]);
    for (let j = 0; j < 3; j++) {
      const facts = g.facts();
      // As the pipeline does when a value arrives: facts holding an uncoercible object run in strict mode.
      noteFacts(facts);
      if (isStrictFacts(facts)) strict++;
      const top = conditions as { all?: Condition[]; any?: Condition[] };
      const lead = top.all?.[0] ?? top.any?.[0];
      const leadLeaf = lead as unknown as { operator: string; fact: string };
      const kind = (v: unknown) =>
        v === undefined
          ? "missing"
          : v === null
            ? "null"
            : Array.isArray(v)
              ? "array"
              : typeof v === "number" && !Number.isFinite(v)
                ? "non-finite"
                : typeof v;
      let s = seen.get(leadLeaf.operator);
      if (s === undefined) {
        s = new Set();
        seen.set(leadLeaf.operator, s);
      }
      s.add(kind(facts[leadLeaf.fact]));
      const want = await ref.level(facts);
      if (want > 0) held++;
      const show = () =>
        `rule ${JSON.stringify(def)}\nfacts ${String(JSON.stringify(facts, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)))}`;
      assert.equal(compiled.level(facts), want, `closures: ${show()}`);
      out[0] = 9;
      if (isStrictFacts(facts)) out[0] = compiled.strictLevel(facts);
      else generated.fn(facts, out);
      assert.equal(out[0], want, `generated: ${show()}`);
    }
  }
  assert.ok(strict > 10, `facts with uncoercible objects were exercised (${strict})`);
  assert.equal(seen.size, 10, "every operator led rules");
  for (const [op, kinds] of seen)
    for (const k of ["number", "non-finite", "boolean", "string", "array", "object", "null", "missing"])
      assert.ok(kinds.has(k), `${op} met a ${k} fact`);
  assert.ok(held > 500, `many rules held (${held})`);
});

test("end to end in-process: JSON payloads of every type → MQTT mapping → pipeline → rule levels = json-rules-engine on the same JSON (seed 11)", async () => {
  const g = everyTypeGenerator(11);
  const log = silentLogger();
  const events = testBus(log);
  const devices = new DeviceRegistry({ events });
  const rules = new RuleSet();
  const got = new Map<string, number>();
  const pipeline = new Pipeline({
    devices,
    rules,
    events,
    log,
    metrics: testMetrics(),
    alarms: {
      observe: (rule, device, level) => got.set(`${rule.def.id}|${device.id}`, level),
      rulesChanged: () => undefined,
      resolve: async () => null,
      flush: async () => undefined,
    },
  });
  const defs = Array.from({ length: 150 }, (_, i) => {
    const warnConditions = g.r() < 0.3 ? g.top() : undefined;
    return {
      id: `r${i}`,
      name: `r${i}`,
      key: "p",
      type: "rule" as const,
      level: 2,
      conditions: g.top(OPERATORS[i % OPERATORS.length]),
      ...(warnConditions ? { warnConditions } : {}),
    };
  });
  assert.deepEqual(rules.replaceFile("every-type.json", defs), []);
  const refs = defs.map((d) => new ReferenceRule(d));
  const mapper = new SubscriptionMapper({ topic: "dev/+/data", device: "{1}", product: "p" });
  const caps: string[] = [];
  let mismatches = 0;
  const first: string[] = [];
  for (let j = 0; j < 60; j++) {
    const payload = toPayload(g.facts());
    const topic = `dev/d${j}/data`;
    assert.ok(mapper.match(topic, caps));
    const res = mapper.map(topic, payload, mapper.deviceFromTopic(caps), 0);
    assert.ok(res.ok, `payload ${payload} maps to a reading`);
    pipeline.ingest(res.reading);
    const facts = JSON.parse(payload) as Record<string, unknown>;
    for (let i = 0; i < defs.length; i++) {
      const want = await (refs[i] as ReferenceRule).level(facts);
      const have = got.get(`r${i}|d${j}`);
      if (have !== want) {
        mismatches++;
        if (first.length < 3)
          first.push(`rule ${JSON.stringify(defs[i])}\npayload ${payload}\nwant ${want} got ${have}`);
      }
    }
  }
  assert.equal(mismatches, 0, `(rule, device) pairs that disagree with json-rules-engine:\n${first.join("\n\n")}`);
});
