// The condition-tree half of rule validation (json-rules-engine `all`/`any`/`not` trees and their
// leaves). The problem collector and the string and number checks both halves share live in
// config/collector.ts (task files use them too). Never throws for user input.

import { type Collector, isObject, kind, type Obj } from "../config/collector.js";
import { suggestion } from "../config/did-you-mean.js";
import { childPath } from "../config/json-scan.js";
import type { Operator } from "../core/types.js";

export { Collector, checkNumber, checkString, isObject, kind, type Obj } from "../config/collector.js";

export const OPERATORS: readonly Operator[] = [
  "equal",
  "notEqual",
  "lessThan",
  "lessThanInclusive",
  "greaterThan",
  "greaterThanInclusive",
  "in",
  "notIn",
  "contains",
  "doesNotContain",
];

const LEAF_KEYS = ["fact", "operator", "value", "path", "params"] as const;
const BOOLEAN_KEYS = ["all", "any", "not"] as const;
const FACT_REF_KEYS = ["fact", "path", "params"] as const;
const COMPARISONS = new Set(["lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"]);
const MAX_DEPTH = 32;

function checkFactRef(c: Collector, v: Obj, path: string): void {
  c.unknownKeys(v, path, FACT_REF_KEYS, "a fact reference");
  const f = v.fact;
  if (typeof f !== "string" || f === "") c.error(childPath(path, "fact"), `expected a fact name, got ${kind(f)}`);
  if (v.path !== undefined && typeof v.path !== "string")
    c.error(childPath(path, "path"), `expected a JSON path string, got ${kind(v.path)}`);
  if (v.params !== undefined && !isObject(v.params))
    c.error(childPath(path, "params"), `expected an object, got ${kind(v.params)}`);
}

function checkLeaf(c: Collector, o: Obj, path: string): void {
  const meant = c.unknownKeys(o, path, LEAF_KEYS, "a condition");
  for (const k of ["fact", "operator", "value"] as const) {
    if (!Object.hasOwn(o, k) && !meant.has(k)) c.error(childPath(path, k), `missing required key '${k}'`);
  }
  if (Object.hasOwn(o, "fact") && (typeof o.fact !== "string" || o.fact === ""))
    c.error(childPath(path, "fact"), `expected a fact name, got ${kind(o.fact)}`);
  if (o.path !== undefined && (typeof o.path !== "string" || o.path === ""))
    c.error(childPath(path, "path"), `expected a JSON path string such as '$.a.b', got ${kind(o.path)}`);
  if (o.params !== undefined && !isObject(o.params))
    c.error(childPath(path, "params"), `expected an object, got ${kind(o.params)}`);
  const op = o.operator;
  if (Object.hasOwn(o, "operator")) {
    if (typeof op !== "string") {
      c.error(childPath(path, "operator"), `expected an operator name, got ${kind(op)}`);
    } else if (!OPERATORS.includes(op as Operator)) {
      c.error(childPath(path, "operator"), `unknown operator '${op}'`, suggestion(op, OPERATORS));
    }
  }
  if (!Object.hasOwn(o, "value")) return;
  const v = o.value;
  const vp = childPath(path, "value");
  if (isObject(v) && Object.hasOwn(v, "fact")) {
    checkFactRef(c, v, vp);
    return;
  }
  if ((op === "in" || op === "notIn") && !Array.isArray(v)) {
    if (typeof v === "string")
      c.warn(
        vp,
        `'${op}' with a string value tests for a substring`,
        `use a list such as ["a", "b"] to test membership`,
      );
    else c.error(vp, `'${op}' needs a list of values, got ${kind(v)}`, `e.g. [1, 2, 3] or {"fact": "other"}`);
  }
  if (typeof op === "string" && COMPARISONS.has(op) && typeof v !== "number") {
    const hint =
      typeof v === "string" && Number.isFinite(Number(v)) && v.trim() !== "" ? `write ${v} without quotes` : undefined;
    c.error(vp, `'${op}' compares numbers, got ${kind(v)}`, hint);
  }
}

export function checkNode(c: Collector, node: unknown, path: string, depth: number, top: boolean): void {
  if (depth > MAX_DEPTH) {
    c.error(path, `conditions nested deeper than ${MAX_DEPTH} levels`);
    return;
  }
  if (!isObject(node)) {
    c.error(path, `expected a condition object, got ${kind(node)}`, top ? `e.g. {"all": [ … ]}` : undefined);
    return;
  }
  const bools = BOOLEAN_KEYS.filter((k) => Object.hasOwn(node, k));
  if (bools.length === 0) {
    if (top) {
      const meant = c.unknownKeys(
        Object.fromEntries(Object.entries(node).filter(([k]) => !LEAF_KEYS.includes(k as never))),
        path,
        BOOLEAN_KEYS,
        "the top of a condition tree",
      );
      if (meant.size === 0)
        c.error(path, `the top of a condition tree must be 'all', 'any' or 'not'`, `wrap it: {"all": [ … ]}`);
      return;
    }
    checkLeaf(c, node, path);
    return;
  }
  if (bools.length > 1) {
    c.error(
      path,
      `a condition has exactly one of 'all', 'any', 'not', found ${bools.map((b) => `'${b}'`).join(" and ")}`,
    );
    return;
  }
  const op = bools[0] as "all" | "any" | "not";
  c.unknownKeys(node, path, [op], `an '${op}' condition`);
  const sub = node[op];
  const sp = childPath(path, op);
  if (op === "not") {
    if (Array.isArray(sub)) c.error(sp, `'not' takes one condition, not a list`, `use {"not": {"any": [ … ]}}`);
    else checkNode(c, sub, sp, depth + 1, false);
    return;
  }
  if (!Array.isArray(sub)) {
    c.error(sp, `'${op}' takes a list of conditions, got ${kind(sub)}`);
    return;
  }
  if (sub.length === 0 && op === "any")
    c.warn(sp, `an empty 'any' always holds (json-rules-engine semantics)`, "add conditions or remove it");
  sub.forEach((s, i) => {
    checkNode(c, s, childPath(sp, i), depth + 1, false);
  });
}
