// The condition-tree half of rule validation (json-rules-engine `all`/`any`/`not` trees and their
// leaves) and the small helpers both halves share: a problem collector with "did you mean" for
// unknown keys, string and number checks. Never throws for user input.

import { suggestion } from "../config/did-you-mean.js";
import { childPath } from "../config/json-scan.js";
import type { Problem } from "../core/errors.js";
import type { Operator } from "../core/types.js";

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

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string`;
  return `a ${typeof v}`;
}

export class Collector {
  readonly problems: Problem[] = [];
  constructor(readonly file: string) {}
  error(path: string, message: string, hint?: string): void {
    this.problems.push({ file: this.file, path, message, ...(hint ? { hint } : {}) });
  }
  warn(path: string, message: string, hint?: string): void {
    this.problems.push({ file: this.file, path, message, severity: "warning", ...(hint ? { hint } : {}) });
  }
  /** Unknown keys with "did you mean"; returns the keys an unknown key most likely meant to be. */
  unknownKeys(o: Obj, path: string, allowed: readonly string[], what: string): Set<string> {
    const meant = new Set<string>();
    for (const k of Object.keys(o)) {
      if (allowed.includes(k)) continue;
      const hint = suggestion(k, allowed);
      if (hint?.startsWith("did you mean")) meant.add(hint.slice(14, -2));
      this.error(childPath(path, k), `unknown key '${k}' in ${what}`, hint);
    }
    return meant;
  }
}

export function checkString(c: Collector, o: Obj, key: string, path: string, required: boolean): void {
  const v = o[key];
  const p = childPath(path, key);
  if (v === undefined) {
    if (required) c.error(p, `missing required key '${key}'`);
    return;
  }
  if (typeof v !== "string") c.error(p, `expected a string, got ${kind(v)}`);
  else if (required && v.trim() === "") c.error(p, `'${key}' must not be empty`);
}

export function checkNumber(
  c: Collector,
  o: Obj,
  key: string,
  path: string,
  range: { min: number; max?: number; integer?: boolean; unit?: string },
): void {
  const v = o[key];
  if (v === undefined) return;
  const p = childPath(path, key);
  if (typeof v !== "number" || !Number.isFinite(v)) {
    const hint =
      typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? `write ${v} without quotes` : undefined;
    c.error(p, `expected a number, got ${kind(v)}`, hint);
    return;
  }
  if (range.integer && !Number.isInteger(v)) c.error(p, `expected a whole number, got ${v}`);
  if (v < range.min || (range.max !== undefined && v > range.max)) {
    const span = range.max !== undefined ? `${range.min}..${range.max}` : `>= ${range.min}`;
    c.error(p, `${key} ${v} is out of range ${span}${range.unit ? ` ${range.unit}` : ""}`);
  }
}

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
