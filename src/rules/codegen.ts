// Generates ONE function per list of rules that writes every rule's level (0/1/2) into an array,
// with each condition leaf inlined; same results as the closures of compile.ts (differential test).
// Invariants: no user text is spliced into code except fact names as escaped JSON string literals;
// constants reach the code through an array; a rule with any risky part calls its closure instead.

import type { Condition } from "../core/types.js";
import type { CompiledRuleImpl, Facts } from "./compile.js";
import { simplePathSegments } from "./compile.js";

/** Writes the level of rule i to out[i] for every rule of the list it was generated for. */
export type LevelsFn = (facts: Facts, out: Uint8Array) => void;

const hasOwn = Object.hasOwn;
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));
const UNSUPPORTED = new Error("not generated");

/** A JavaScript string literal for any string: JSON plus the two line separators (pre-ES2019 safe). */
export function jsString(s: string): string {
  return JSON.stringify(s)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Same walk as compile.ts's withPath for a simple path (jsonpath-plus semantics). */
function walk(base: unknown, segs: readonly string[]): unknown {
  let v = base;
  if (v === null || typeof v !== "object") return v;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as string;
    if (v && hasOwn(v as object, s)) v = (v as Record<string, unknown>)[s];
    else return undefined;
  }
  return v;
}

function numericOther(a: unknown): boolean {
  return !Number.isNaN(Number.parseFloat(a as string));
}

function deepClone<T>(v: T): T {
  return v === null || typeof v !== "object" ? v : (structuredClone(v) as T);
}

class Emitter {
  readonly consts: unknown[] = [];
  readonly facts = new Map<string, string>();
  readonly paths = new Map<string, string>();
  readonly pre: string[] = [];

  konst(v: unknown): string {
    this.consts.push(v);
    return `k${this.consts.length - 1}`;
  }

  fact(name: unknown): string {
    // Runtime facts are keyed by strings: any other id is an undefined fact to the engine.
    if (typeof name !== "string") return "undefined";
    let id = this.facts.get(name);
    if (id === undefined) {
      id = `f${this.facts.size}`;
      this.facts.set(name, id);
      const lit = jsString(name);
      // The engine keeps facts in a Map: an inherited name such as `constructor` is undefined.
      this.pre.push(
        INHERITED.has(name)
          ? `const ${id} = H(facts, ${lit}) ? facts[${lit}] : undefined;`
          : `const ${id} = facts[${lit}];`,
      );
    }
    return id;
  }

  /** The operand a `{ fact, path }` denotes, as a local name. */
  operand(name: unknown, path: unknown): string {
    const base = this.fact(name);
    if (typeof path !== "string" || path === "") return base;
    const segs = simplePathSegments(path);
    if (segs === null) throw UNSUPPORTED; // jsonpath-plus may throw: the closure handles it
    if (base === "undefined") return base;
    const key = `${base}\u0000${segs.join("\u0000")}`;
    let id = this.paths.get(key);
    if (id === undefined) {
      id = `p${this.paths.size}`;
      this.paths.set(key, id);
      this.pre.push(`const ${id} = W(${base}, ${this.konst(segs)});`);
    }
    return id;
  }

  node(node: Condition): string {
    const n = node as unknown as Record<string, unknown>;
    // Same precedence as the engine's Condition.booleanOperator: any, then all, then not.
    if (hasOwn(n, "any")) return this.list(n.any as Condition[], "||");
    if (hasOwn(n, "all")) return this.list(n.all as Condition[], "&&");
    if (hasOwn(n, "not")) return `!${this.node(n.not as Condition)}`;
    return this.leaf(n);
  }

  list(list: readonly Condition[], op: "&&" | "||"): string {
    if (!Array.isArray(list)) throw UNSUPPORTED;
    // The engine: an empty list is true for both `all` and `any`.
    if (list.length === 0) return "true";
    return `(${list.map((c) => this.node(c)).join(` ${op} `)})`;
  }

  leaf(c: Record<string, unknown>): string {
    const x = this.operand(c.fact, c.path);
    const raw = c.value;
    let y: string;
    let constant: unknown;
    const isRef = raw !== null && typeof raw === "object" && hasOwn(raw, "fact");
    if (isRef) {
      const ref = raw as { fact: unknown; path?: unknown };
      y = this.operand(ref.fact, ref.path);
    } else {
      // The engine compares against a clone of the rule's value: never the same object as a fact.
      constant = deepClone(raw);
      y = this.konst(constant);
    }
    const num = (cmp: string) => `(typeof ${x} === "number" ? ${x} ${cmp} ${y} : N(${x}) && ${x} ${cmp} ${y})`;
    switch (c.operator) {
      case "equal":
        return `(${x} === ${y})`;
      case "notEqual":
        return `(${x} !== ${y})`;
      case "lessThan":
        return num("<");
      case "lessThanInclusive":
        return num("<=");
      case "greaterThan":
        return num(">");
      case "greaterThanInclusive":
        return num(">=");
      case "in":
      case "notIn": {
        // Against a fact, or a constant without indexOf, the engine may throw: the closure handles it.
        if (isRef || (typeof constant !== "string" && !Array.isArray(constant))) throw UNSUPPORTED;
        return `(${y}.indexOf(${x}) ${c.operator === "in" ? "> -1" : "=== -1"})`;
      }
      case "contains":
        return `(Array.isArray(${x}) && ${x}.indexOf(${y}) > -1)`;
      case "doesNotContain":
        return `(Array.isArray(${x}) && ${x}.indexOf(${y}) === -1)`;
      default:
        throw UNSUPPORTED;
    }
  }
}

export interface GeneratedLevels {
  fn: LevelsFn;
  /** How many of the rules were inlined (the others call their closure). */
  inlined: number;
}

/** The generated source for a list of rules writing out[base + i] (exposed for tests), and its constants. */
export function generateSource(
  rules: readonly CompiledRuleImpl[],
  base = 0,
): {
  source: string;
  consts: unknown[];
  inlined: number;
} {
  const em = new Emitter();
  const body: string[] = [];
  let inlined = 0;
  const fallback: number[] = [];
  rules.forEach((rule, i) => {
    const mark = { consts: em.consts.length, pre: em.pre.length, facts: em.facts.size, paths: em.paths.size };
    try {
      const cond = em.node(rule.def.conditions as Condition);
      const warn = rule.def.warnConditions ? em.node(rule.def.warnConditions as Condition) : "false";
      body.push(`out[${base + i}] = ${cond} ? 2 : ${warn} ? 1 : 0;`);
      inlined++;
    } catch (err) {
      if (err !== UNSUPPORTED) throw err;
      // Undo what the abandoned rule registered, then let its closure evaluate it.
      em.consts.length = mark.consts;
      em.pre.length = mark.pre;
      for (const [k, v] of em.facts) if (Number(v.slice(1)) >= mark.facts) em.facts.delete(k);
      for (const [k, v] of em.paths) if (Number(v.slice(1)) >= mark.paths) em.paths.delete(k);
      fallback.push(i);
      body.push(`out[${base + i}] = r${i}.level(facts);`);
    }
  });
  const source = [
    '"use strict";',
    ...em.consts.map((_, j) => `const k${j} = K[${j}];`),
    ...fallback.map((i) => `const r${i} = R[${i}];`),
    "return function levels(facts, out) {",
    ...em.pre,
    ...body,
    "};",
  ].join("\n");
  return { source, consts: em.consts, inlined };
}

/**
 * Largest generated source per function: V8 does not optimise very large functions (measured:
 * 100 rules in 32 kB run at ~4 ns per rule, 300 rules in 96 kB at ~50 ns, slower than closures).
 */
export const MAX_SOURCE = 40_000;
const MAX_RULES = 128;

export function generateLevels(rules: readonly CompiledRuleImpl[]): GeneratedLevels {
  const fns: LevelsFn[] = [];
  let inlined = 0;
  let base = 0;
  do {
    let size = Math.min(MAX_RULES, rules.length - base);
    let gen = generateSource(rules.slice(base, base + size), base);
    while (gen.source.length > MAX_SOURCE && size > 1) {
      size = Math.ceil(size / 2);
      gen = generateSource(rules.slice(base, base + size), base);
    }
    inlined += gen.inlined;
    const factory = new Function("K", "R", "W", "N", "H", gen.source) as (
      k: unknown[],
      r: readonly CompiledRuleImpl[],
      w: typeof walk,
      n: typeof numericOther,
      h: typeof hasOwn,
    ) => LevelsFn;
    fns.push(factory(gen.consts, rules.slice(base, base + size), walk, numericOther, hasOwn));
    base += size;
  } while (base < rules.length);
  if (fns.length === 1) return { fn: fns[0] as LevelsFn, inlined };
  const n = fns.length;
  return {
    fn: (facts, out) => {
      for (let i = 0; i < n; i++) (fns[i] as LevelsFn)(facts, out);
    },
    inlined,
  };
}
