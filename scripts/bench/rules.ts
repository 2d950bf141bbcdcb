// Rule evaluation benchmark: 100 rules (every operator, paths, fact-to-fact, nested all/any/not,
// some warnConditions) over 1000 devices' facts of which about 10% cross a threshold. Compares the
// compiled rules with json-rules-engine's engine.run on the same rules and facts, checks that the
// closures, the generated code and the engine agree on every result first, and prints the
// per-reading cost and onResult calls of RuleSet.evaluate against the closure-per-rule baseline.
// A second workload mixes facts of every type (strings, arrays, objects) and in/contains/path rules.

import jre from "json-rules-engine";
import type { CompiledRule } from "../../src/core/ports.js";
import type { Condition, Reading, RuleDefinition, TopLevelCondition } from "../../src/core/types.js";
import { generateLevels } from "../../src/rules/codegen.js";
import { type CompiledRuleImpl, compileRule } from "../../src/rules/compile.js";
import { RuleSet } from "../../src/rules/rule-set.js";

const RULES = 100;
const DEVICES = 1000;
const SECONDS = 2;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRules(r: () => number): RuleDefinition[] {
  const leaf = (i: number): Condition => {
    switch (i % 12) {
      case 0:
        return { fact: "voltage", operator: "greaterThan", value: 250 };
      case 1:
        return { fact: "voltage", operator: "lessThan", value: 200 };
      case 2:
        return { fact: "current", operator: "greaterThanInclusive", value: 95 };
      case 3:
        return { fact: "power_kw", operator: "lessThanInclusive", value: -1 };
      case 4:
        return { fact: "breaker_on", operator: "equal", value: false };
      case 5:
        return { fact: "mode", operator: "notEqual", value: "auto" };
      case 6:
        return { fact: "mode", operator: "in", value: ["fault", "trip", "test"] };
      case 7:
        return { fact: "phase", operator: "notIn", value: ["L1", "L2", "L3"] };
      case 8:
        return { fact: "tags", operator: "contains", value: "overload" };
      case 9:
        return { fact: "tags", operator: "doesNotContain", value: "commissioned" };
      case 10:
        return { fact: "meta", path: "$.temp.board", operator: "greaterThan", value: 80 };
      default:
        return { fact: "current", operator: "greaterThan", value: { fact: "current_limit" } };
    }
  };
  const rules: RuleDefinition[] = [];
  for (let i = 0; i < RULES; i++) {
    const a = leaf(i);
    const b = leaf(i + 5);
    let conditions: TopLevelCondition;
    if (i % 4 === 0) conditions = { all: [a] };
    else if (i % 4 === 1) conditions = { any: [a, b] };
    else if (i % 4 === 2) conditions = { all: [{ any: [a, b] }, { not: leaf(i + 7) }] };
    else conditions = { any: [{ all: [a, { fact: "breaker_on", operator: "equal", value: true }] }, b] };
    const warn: TopLevelCondition | undefined =
      i % 3 === 0
        ? { all: [{ fact: "voltage", operator: "greaterThan", value: 240 + Math.floor(r() * 8) }] }
        : undefined;
    rules.push({
      id: `bench-${i}`,
      name: `bench${i}`,
      key: "meter",
      type: "rule",
      level: 3,
      conditions,
      ...(warn ? { warnConditions: warn } : {}),
    });
  }
  return rules;
}

function makeFacts(r: () => number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const crossing = r() < 0.1;
    out.push({
      voltage: crossing ? 251 + r() * 5 : 228 + r() * 6,
      current: crossing ? 96 + r() * 3 : 40 + r() * 20,
      current_limit: 90,
      power_kw: crossing ? -2 : 10 + r() * 5,
      energy_kwh: 1000 + d,
      breaker_on: !crossing,
      mode: crossing ? "fault" : "auto",
      phase: crossing ? "N" : "L1",
      tags: crossing ? ["overload"] : ["commissioned"],
      meta: { temp: { board: crossing ? 85 : 40 } },
    });
  }
  return out;
}

function rate(fn: () => number, seconds: number): number {
  const t0 = performance.now();
  let evals = 0;
  while (performance.now() - t0 < seconds * 1000) evals += fn();
  return evals / ((performance.now() - t0) / 1000);
}

async function rateAsync(fn: () => Promise<number>, seconds: number): Promise<number> {
  const t0 = performance.now();
  let evals = 0;
  while (performance.now() - t0 < seconds * 1000) evals += await fn();
  return evals / ((performance.now() - t0) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

export default async function bench(): Promise<void> {
  const r = mulberry32(42);
  const defs = makeRules(r);
  const facts = makeFacts(r);
  const compiled: CompiledRule[] = defs.map((d) => compileRule(d, "bench.json"));

  // The reference: one engine holding every conditions tree and every warnConditions tree.
  const engine = new jre.Engine([], { allowUndefinedFacts: true });
  let treeCount = 0;
  for (const d of defs) {
    for (const [kind, tree] of [
      ["c", d.conditions],
      ["w", d.warnConditions],
    ] as const) {
      if (!tree) continue;
      treeCount++;
      engine.addRule({
        conditions: structuredClone(tree) as unknown as import("json-rules-engine").TopLevelCondition,
        event: { type: `${kind}:${d.id}` },
      });
    }
  }
  const refLevels = async (f: Record<string, unknown>): Promise<Map<string, number>> => {
    const res = await engine.run(f);
    const hit = new Set(res.events.map((e) => e.type));
    const m = new Map<string, number>();
    for (const d of defs) m.set(d.id, hit.has(`c:${d.id}`) ? 2 : hit.has(`w:${d.id}`) ? 1 : 0);
    return m;
  };

  // Agreement first: a fast wrong answer is worth nothing.
  const generated = generateLevels(compiled as CompiledRuleImpl[]);
  const out = new Uint8Array(compiled.length);
  let crossings = 0;
  for (const f of facts) {
    const want = await refLevels(f);
    generated.fn(f, out);
    for (let i = 0; i < compiled.length; i++) {
      const c = compiled[i] as CompiledRule;
      const got = c.level(f);
      if (got !== want.get(c.def.id)) throw new Error(`disagreement on ${c.def.id}: ${got} vs ${want.get(c.def.id)}`);
      if (out[i] !== got) throw new Error(`generated code disagrees on ${c.def.id}: ${out[i]} vs ${got}`);
      if (got > 0) crossings++;
    }
  }

  let sink = 0;
  const compiledRate = rate(() => {
    for (let d = 0; d < DEVICES; d++) {
      const f = facts[d] as Record<string, unknown>;
      for (let i = 0; i < compiled.length; i++) sink += (compiled[i] as CompiledRule).level(f);
    }
    return DEVICES * compiled.length;
  }, SECONDS);

  let di = 0;
  const engineRate = await rateAsync(async () => {
    await engine.run(facts[di++ % DEVICES] as Record<string, unknown>);
    return RULES;
  }, SECONDS);

  const set = new RuleSet({ tzOffsetMs: () => 0 });
  set.replaceFile("bench.json", defs);
  const reading: Reading = { deviceId: "", product: "meter", ts: Date.now(), values: {}, source: "mqtt" };
  let calls = 0;
  const onResult = (_r: CompiledRule, level: number) => {
    calls++;
    sink += level;
  };
  const ids = facts.map((_, d) => `m${d}`);
  const timed = (evaluate: () => void): { us: number; calls: number } => {
    for (let k = 0; k < 3; k++) evaluate(); // warm-up, and every (rule, device) seen once
    calls = 0;
    const t0 = performance.now();
    let readings = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      evaluate();
      readings += DEVICES;
    }
    return { us: ((performance.now() - t0) * 1000) / readings, calls: calls / readings };
  };
  // Baseline: what RuleSet.evaluate did before code generation, one closure call and one result per rule.
  const before = timed(() => {
    for (let d = 0; d < DEVICES; d++) {
      const f = facts[d] as Record<string, unknown>;
      for (let i = 0; i < compiled.length; i++)
        onResult(compiled[i] as CompiledRule, (compiled[i] as CompiledRule).level(f));
    }
  });
  const after = timed(() => {
    for (let d = 0; d < DEVICES; d++) {
      reading.deviceId = ids[d] as string;
      set.evaluate(reading, facts[d] as Record<string, unknown>, onResult);
    }
  });
  let gi = 0;
  const generatedRate = rate(() => {
    for (let d = 0; d < DEVICES; d++) generated.fn(facts[(d + gi) % DEVICES] as Record<string, unknown>, out);
    gi++;
    return DEVICES * compiled.length;
  }, SECONDS);

  console.log(
    `rules.setup: ${RULES} rules (${treeCount} condition trees, ${generated.inlined} inlined by code generation) × ${DEVICES} devices, ${((crossings / (RULES * DEVICES)) * 100).toFixed(1)}% of results non-zero, compiled = generated = engine on all ${fmt(RULES * DEVICES)} pairs`,
  );
  console.log(
    `rules.compiled_evals_per_s: ${fmt(compiledRate)} (baseline json-rules-engine engine.run: ${fmt(engineRate)}, ratio ${(compiledRate / engineRate).toFixed(0)})`,
  );
  console.log(
    `rules.generated_evals_per_s: ${fmt(generatedRate)} (baseline closures: ${fmt(compiledRate)}, ratio ${(generatedRate / compiledRate).toFixed(1)})`,
  );
  console.log(
    `rules.ruleset_evaluate_us_per_reading: ${after.us.toFixed(2)} (baseline closure per rule: ${before.us.toFixed(2)}, ratio ${(after.us / before.us).toFixed(2)}; ${RULES} rules per reading, ${fmt(1e6 / after.us)} readings/s)`,
  );
  console.log(
    `rules.onresult_calls_per_reading: ${after.calls.toFixed(2)} (baseline one per rule: ${before.calls.toFixed(2)}, ratio ${(after.calls / before.calls).toFixed(3)})`,
  );
  if (sink === -1) console.log("");
  await mixedBench();
}

/**
 * Facts of every type: a third of the values are strings, arrays or objects, and a third of the rules
 * use `in`, `contains` or `path` (the rest compare numbers). Compiled (through RuleSet.evaluate, as the
 * pipeline runs them) against json-rules-engine on the same rules and facts, after checking agreement.
 */
async function mixedBench(): Promise<void> {
  const r = mulberry32(7);
  const facts: Record<string, unknown>[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const hot = r() < 0.1;
    facts.push({
      voltage: hot ? 252 : 228 + r() * 6,
      current: hot ? 97 : 40 + r() * 20,
      power_kw: 10 + r() * 5,
      energy_kwh: 1000 + d,
      freq: 50 + (r() - 0.5) / 10,
      breaker_on: !hot,
      state: hot ? "fault" : r() < 0.5 ? "ok" : "idle",
      alarms: hot ? ["overtemp", "fan"] : [],
      env: { temp: hot ? 45 : 25 + r() * 10, hum: 40 + r() * 20 },
    });
  }
  const numeric: Condition[] = [
    { fact: "voltage", operator: "greaterThan", value: 250 },
    { fact: "current", operator: "greaterThanInclusive", value: 95 },
    { fact: "power_kw", operator: "lessThan", value: 0 },
    { fact: "freq", operator: "lessThan", value: 49.5 },
    { fact: "breaker_on", operator: "equal", value: false },
    { fact: "voltage", operator: "lessThan", value: 200 },
  ];
  const mixed: Condition[] = [
    { fact: "state", operator: "in", value: ["fault", "trip"] },
    { fact: "alarms", operator: "contains", value: "overtemp" },
    { fact: "env", path: "$.temp", operator: "greaterThan", value: 40 },
  ];
  const defs: RuleDefinition[] = Array.from({ length: RULES }, (_, i) => {
    const leaf = i % 3 === 0 ? (mixed[(i / 3) % 3] as Condition) : (numeric[i % numeric.length] as Condition);
    const other = numeric[(i + 1) % numeric.length] as Condition;
    return {
      id: `mixed-${i}`,
      name: `mixed${i}`,
      key: "plc",
      type: "rule",
      level: 3,
      conditions: i % 2 === 0 ? { all: [leaf] } : { any: [leaf, other] },
    };
  });
  const engine = new jre.Engine([], { allowUndefinedFacts: true });
  for (const d of defs)
    engine.addRule({
      conditions: structuredClone(d.conditions) as unknown as import("json-rules-engine").TopLevelCondition,
      event: { type: d.id },
    });
  const set = new RuleSet({ tzOffsetMs: () => 0 });
  set.replaceFile("mixed.json", defs);
  const byId = new Map<string, number>();
  const reading: Reading = { deviceId: "", product: "plc", ts: Date.now(), values: {}, source: "mqtt" };
  let nonZero = 0;
  for (let d = 0; d < DEVICES; d++) {
    const f = facts[d] as Record<string, unknown>;
    const hit = new Set((await engine.run(f)).events.map((e) => e.type));
    byId.clear();
    reading.deviceId = `check-${d}`;
    set.evaluate(reading, f, (rule, level) => byId.set(rule.def.id, level));
    for (const def of defs) {
      const want = hit.has(def.id) ? 2 : 0;
      if ((byId.get(def.id) ?? 0) !== want) throw new Error(`mixed: disagreement on ${def.id} for device ${d}`);
      if (want > 0) nonZero++;
    }
  }
  let sink = 0;
  const onResult = (_r: CompiledRule, level: number) => {
    sink += level;
  };
  const ids = facts.map((_, d) => `m${d}`);
  const compiledRate = rate(() => {
    for (let d = 0; d < DEVICES; d++) {
      reading.deviceId = ids[d] as string;
      set.evaluate(reading, facts[d] as Record<string, unknown>, onResult);
    }
    return DEVICES * RULES;
  }, SECONDS);
  let di = 0;
  const engineRate = await rateAsync(async () => {
    await engine.run(facts[di++ % DEVICES] as Record<string, unknown>);
    return RULES;
  }, SECONDS);
  console.log(
    `rules.mixed_setup: ${RULES} rules (a third with in/contains/path) × ${DEVICES} devices whose 9 values are a third strings/arrays/objects, ${((nonZero / (RULES * DEVICES)) * 100).toFixed(1)}% of results non-zero, RuleSet = engine on all ${fmt(RULES * DEVICES)} pairs`,
  );
  console.log(
    `rules.mixed_evals_per_s: ${fmt(compiledRate)} (baseline json-rules-engine engine.run: ${fmt(engineRate)}, ratio ${(compiledRate / engineRate).toFixed(0)}; ${fmt(compiledRate / RULES)} readings/s)`,
  );
  if (sink === -1) console.log("");
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
