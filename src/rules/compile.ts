// Compiles json-rules-engine condition trees into plain synchronous closures with exactly the
// engine's (7.x) results for the same facts, run as the engine would with allowUndefinedFacts.
// Invariants: no allocation and no await per evaluation; a tree in which the engine would throw
// (`in` against a fact that is not an array or string, a JSON path the resolver rejects) "does not hold".
// A little over 400 lines: one operator table whose cases must each mirror the engine exactly; kept
// together so the differential test's subject reads as one unit.

import jre from "json-rules-engine";
import type { CompiledRule, ConditionLevel } from "../core/ports.js";
import type { Condition, RuleDefinition, TopLevelCondition } from "../core/types.js";

export type Facts = Readonly<Record<string, unknown>>;
type Pred = (f: Facts) => boolean;
type Getter = (f: Facts) => unknown;

const hasOwn = Object.hasOwn;

// The engine's own resolver (jsonpath-plus, wrap: false) for paths the compiler does not inline.
const referencePathResolver = (new jre.Almanac() as unknown as { pathResolver: (v: object, p: string) => unknown })
  .pathResolver;

// Facts are looked up in a Map by the engine: an inherited name such as `constructor` is undefined.
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** `$.a.b`, `$.a[0]`, `$[2].x`: paths whose jsonpath-plus result is a plain own-property walk. */
const SIMPLE_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+$/;
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g;

export function simplePathSegments(path: string): string[] | null {
  if (!SIMPLE_PATH.test(path)) return null;
  const segs: string[] = [];
  for (const m of path.matchAll(SEGMENT)) segs.push((m[1] ?? m[2]) as string);
  return segs;
}

interface Compiled {
  pred: Pred;
  /** The engine may throw while evaluating it: evaluate every branch, no short-circuit. */
  risky: boolean;
}

const UNDEFINED_FACT: Getter = () => undefined;

function factGetter(name: unknown): Getter {
  // Runtime facts are keyed by strings: any other id is an undefined fact to the engine.
  if (typeof name !== "string") return UNDEFINED_FACT;
  if (INHERITED.has(name)) return (f) => (hasOwn(f, name) ? f[name] : undefined);
  return (f) => f[name];
}

/** Almanac.factValue semantics: the path applies only to a non-null object; otherwise the value itself. */
function withPath(base: Getter, path: unknown): { get: Getter; risky: boolean } {
  if (typeof path !== "string" || path === "") return { get: base, risky: false };
  const segs = simplePathSegments(path);
  if (segs === null) {
    return {
      get: (f) => {
        const v = base(f);
        return v !== null && typeof v === "object" ? referencePathResolver(v, path) : v;
      },
      risky: true,
    };
  }
  const n = segs.length;
  if (n === 1) {
    const s0 = segs[0] as string;
    return {
      get: (f) => {
        const v = base(f);
        if (v === null || typeof v !== "object") return v;
        return hasOwn(v, s0) ? (v as Record<string, unknown>)[s0] : undefined;
      },
      risky: false,
    };
  }
  return {
    get: (f) => {
      let v = base(f);
      if (v === null || typeof v !== "object") return v;
      for (let i = 0; i < n; i++) {
        const s = segs[i] as string;
        // jsonpath-plus follows `val && Object.hasOwn(val, loc)`: strings have own indices and length.
        if (v && hasOwn(v as object, s)) v = (v as Record<string, unknown>)[s];
        else return undefined;
      }
      return v;
    },
    risky: false,
  };
}

function isFactRef(v: unknown): v is { fact: unknown; path?: unknown } {
  return v !== null && typeof v === "object" && hasOwn(v, "fact");
}

function numeric(a: unknown): boolean {
  // The engine's numberValidator: Number.parseFloat(a).toString() !== 'NaN', without the string.
  return typeof a === "number" ? !Number.isNaN(a) : !Number.isNaN(Number.parseFloat(a as string));
}

function indexOfFn(b: unknown): boolean {
  return b !== null && b !== undefined && typeof (b as { indexOf?: unknown }).indexOf === "function";
}

function deepClone<T>(v: T): T {
  return v === null || typeof v !== "object" ? v : (structuredClone(v) as T);
}

/** Thrown where the engine would reject the run. */
class EngineWouldThrow extends Error {}
const WOULD_THROW = new EngineWouldThrow("the engine would throw here");

function compileLeaf(c: Record<string, unknown>, strict: boolean): Compiled {
  const lhs = withPath(factGetter(c.fact), c.path);
  const a = lhs.get;
  let risky = lhs.risky || strict;
  const raw = c.value;
  let b: Getter;
  let constant = false;
  let bConst: unknown;
  if (isFactRef(raw)) {
    const rhs = withPath(factGetter(raw.fact), raw.path);
    b = rhs.get;
    risky ||= rhs.risky;
  } else {
    // The engine compares against a clone of the rule's value: never the same object as a fact.
    bConst = deepClone(raw);
    constant = true;
    const k = bConst;
    b = () => k;
  }
  const op = c.operator;
  if (risky) {
    // A path the engine resolves with jsonpath-plus may throw on either side: evaluate both, always.
    return { pred: (f) => applyOperator(op, a(f), b(f)), risky: true };
  }
  switch (op) {
    case "equal":
      return constant ? { pred: (f) => a(f) === bConst, risky } : { pred: (f) => a(f) === b(f), risky };
    case "notEqual":
      return constant ? { pred: (f) => a(f) !== bConst, risky } : { pred: (f) => a(f) !== b(f), risky };
    case "lessThan":
      return {
        pred: (f) => {
          const x = a(f);
          return numeric(x) && (x as number) < (b(f) as number);
        },
        risky,
      };
    case "lessThanInclusive":
      return {
        pred: (f) => {
          const x = a(f);
          return numeric(x) && (x as number) <= (b(f) as number);
        },
        risky,
      };
    case "greaterThan":
      if (constant && typeof bConst === "number") {
        const k = bConst;
        return {
          pred: (f) => {
            const x = a(f);
            return typeof x === "number" ? x > k : numeric(x) && (x as number) > k;
          },
          risky,
        };
      }
      return {
        pred: (f) => {
          const x = a(f);
          return numeric(x) && (x as number) > (b(f) as number);
        },
        risky,
      };
    case "greaterThanInclusive":
      return {
        pred: (f) => {
          const x = a(f);
          return numeric(x) && (x as number) >= (b(f) as number);
        },
        risky,
      };
    case "in":
    case "notIn": {
      const wantIn = op === "in";
      if (constant && !indexOfFn(bConst)) {
        // b.indexOf is not a function: the engine rejects every run of this rule.
        return {
          pred: () => {
            throw WOULD_THROW;
          },
          risky: true,
        };
      }
      if (constant) {
        const list = bConst as { indexOf(x: unknown): number };
        return { pred: (f) => list.indexOf(a(f)) > -1 === wantIn, risky };
      }
      return {
        pred: (f) => {
          const x = a(f);
          const list = b(f);
          if (!indexOfFn(list)) throw WOULD_THROW;
          return (list as { indexOf(x: unknown): number }).indexOf(x) > -1 === wantIn;
        },
        risky: true,
      };
    }
    case "contains":
    case "doesNotContain": {
      const want = op === "contains";
      return {
        pred: (f) => {
          const x = a(f);
          return Array.isArray(x) && x.indexOf(b(f)) > -1 === want;
        },
        risky,
      };
    }
    default:
      // Validation refuses unknown operators; the engine rejects the run with "Unknown operator".
      return {
        pred: () => {
          throw WOULD_THROW;
        },
        risky: true,
      };
  }
}

/** One operator over resolved sides, as the engine's default operators do it. */
export function applyOperator(op: unknown, x: unknown, y: unknown): boolean {
  switch (op) {
    case "equal":
      return x === y;
    case "notEqual":
      return x !== y;
    case "lessThan":
      return numeric(x) && (x as number) < (y as number);
    case "lessThanInclusive":
      return numeric(x) && (x as number) <= (y as number);
    case "greaterThan":
      return numeric(x) && (x as number) > (y as number);
    case "greaterThanInclusive":
      return numeric(x) && (x as number) >= (y as number);
    case "in":
    case "notIn":
      if (!indexOfFn(y)) throw WOULD_THROW;
      return (y as { indexOf(v: unknown): number }).indexOf(x) > -1 === (op === "in");
    case "contains":
      return Array.isArray(x) && x.indexOf(y) > -1;
    case "doesNotContain":
      return Array.isArray(x) && x.indexOf(y) === -1;
    default:
      throw WOULD_THROW;
  }
}

function compileNode(node: Condition, strict: boolean): Compiled {
  const n = node as unknown as Record<string, unknown>;
  // Same precedence as the engine's Condition.booleanOperator: any, then all, then not.
  if (hasOwn(n, "any")) return compileList(n.any as Condition[], "any", strict);
  if (hasOwn(n, "all")) return compileList(n.all as Condition[], "all", strict);
  if (hasOwn(n, "not")) {
    const inner = compileNode(n.not as Condition, strict);
    const p = inner.pred;
    return { pred: (f) => !p(f), risky: inner.risky };
  }
  return compileLeaf(n, strict);
}

function compileList(list: readonly Condition[], op: "all" | "any", strict: boolean): Compiled {
  // The engine: an empty list is true for both `all` and `any`; one child is the child itself.
  if (list.length === 0) return { pred: () => true, risky: false };
  if (list.length === 1) return compileNode(list[0] as Condition, strict);
  const parts = list.map((c) => compileNode(c, strict));
  const preds = parts.map((p) => p.pred);
  const risky = parts.some((p) => p.risky);
  const n = preds.length;
  if (risky) {
    // No priorities: the engine evaluates every condition of the tree before combining.
    return {
      pred:
        op === "all"
          ? (f) => {
              let r = true;
              for (let i = 0; i < n; i++) if (!(preds[i] as Pred)(f)) r = false;
              return r;
            }
          : (f) => {
              let r = false;
              for (let i = 0; i < n; i++) if ((preds[i] as Pred)(f)) r = true;
              return r;
            },
      risky,
    };
  }
  if (n === 2) {
    const p0 = preds[0] as Pred;
    const p1 = preds[1] as Pred;
    return { pred: op === "all" ? (f) => p0(f) && p1(f) : (f) => p0(f) || p1(f), risky };
  }
  return {
    pred:
      op === "all"
        ? (f) => {
            for (let i = 0; i < n; i++) if (!(preds[i] as Pred)(f)) return false;
            return true;
          }
        : (f) => {
            for (let i = 0; i < n; i++) if ((preds[i] as Pred)(f)) return true;
            return false;
          },
    risky,
  };
}

/**
 * A predicate that is true when the tree holds for the facts (false where the engine would throw).
 * `strict`: every leaf is evaluated, none short-circuited, and any throw means "does not hold" — the
 * engine's behaviour for facts whose coercion throws (see markFacts).
 */
export function compileCondition(tree: TopLevelCondition | Condition, strict = false): (facts: Facts) => boolean {
  const c = compileNode(tree as Condition, strict);
  const p = c.pred;
  if (!c.risky) return p;
  return (f) => {
    try {
      return p(f);
    } catch {
      return false;
    }
  };
}

const NEVER = (): boolean => false;

// ---- facts whose coercion throws ----------------------------------------------------------------
// A JSON object with its own `toString` key (`{"toString": 1}`), or an array holding one, cannot be
// converted to a primitive: the engine's numeric operators (parseFloat, <) and `in` against a string
// throw on it, and the engine evaluates every condition of a tree, so the whole run is rejected even
// where a short-circuit would have decided without that leaf. Such values are rare: the facts objects
// holding one are marked, and only they are evaluated in strict mode; the rest keep the fast path.

const strictFacts = new WeakSet<object>();
/** Facts objects marked so far: while 0 (the usual case) no lookup is made per evaluation. */
let strictMarked = 0;

/** Whether coercing `v` to a primitive throws (a JSON object with an own `toString`, or an array holding one). */
export function uncoercible(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== "object" || depth > 64) return false;
  if (!Array.isArray(v)) return hasOwn(v, "toString");
  for (let i = 0; i < v.length; i++) if (uncoercible(v[i], depth + 1)) return true;
  return false;
}

/** Marks a facts object that holds (or held) an uncoercible value: its rules run in strict mode. */
export function markStrictFacts(facts: object): void {
  if (strictFacts.has(facts)) return;
  strictFacts.add(facts);
  strictMarked++;
}

/** Marks `facts` when any of its values is uncoercible (tests and callers that build facts wholesale). */
export function noteFacts(facts: Facts): void {
  for (const k in facts) {
    if (hasOwn(facts, k) && uncoercible(facts[k])) {
      markStrictFacts(facts);
      return;
    }
  }
}

/** Whether the facts must be evaluated in strict mode. */
export function isStrictFacts(facts: Facts): boolean {
  return strictMarked > 0 && strictFacts.has(facts);
}

export class CompiledRuleImpl implements CompiledRule {
  readonly def: RuleDefinition;
  readonly file: string;
  readonly #cond: (f: Facts) => boolean;
  readonly #warn: (f: Facts) => boolean;
  #strict: { cond: (f: Facts) => boolean; warn: (f: Facts) => boolean } | null = null;

  constructor(def: RuleDefinition, file: string) {
    this.def = def;
    this.file = file;
    this.#cond = compileCondition(def.conditions);
    this.#warn = def.warnConditions ? compileCondition(def.warnConditions) : NEVER;
  }

  level(facts: Facts): ConditionLevel {
    if (strictMarked > 0 && strictFacts.has(facts)) return this.strictLevel(facts);
    if (this.#cond(facts)) return 2;
    return this.#warn(facts) ? 1 : 0;
  }

  /** The level with every leaf evaluated (facts holding an uncoercible value). */
  strictLevel(facts: Facts): ConditionLevel {
    let s = this.#strict;
    if (s === null) {
      const w = this.def.warnConditions;
      s = { cond: compileCondition(this.def.conditions, true), warn: w ? compileCondition(w, true) : NEVER };
      this.#strict = s;
    }
    if (s.cond(facts)) return 2;
    return s.warn(facts) ? 1 : 0;
  }
}

export function compileRule(def: RuleDefinition, file: string): CompiledRule {
  return new CompiledRuleImpl(def, file);
}
