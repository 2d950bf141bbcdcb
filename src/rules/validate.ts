// Validation of rule documents (SPEC §5): strict JSON with line:column, then every problem with
// file, JSON path, reason and a hint ("did you mean"). Never throws for user input. A valid
// document yields normalized RuleDefinitions (name defaults to id, type to "rule").

import { suggestion } from "../config/did-you-mean.js";
import { childPath } from "../config/json-scan.js";
import { parseJsonText } from "../config/load.js";
import type { Problem } from "../core/errors.js";
import type { Operator, RuleDefinition } from "../core/types.js";

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

const RULE_KEYS = [
  "id",
  "name",
  "title",
  "message",
  "description",
  "key",
  "did",
  "type",
  "fact",
  "isEnable",
  "level",
  "period",
  "start",
  "end",
  "for",
  "conditions",
  "warnConditions",
  "actions",
] as const;
const ACTION_KEYS = ["alarm", "workOrder", "webhook"] as const;
const WORK_ORDER_KEYS = ["priority", "alarmType", "description", "triggerSource", "cameraId", "imageUrl"] as const;
const LEAF_KEYS = ["fact", "operator", "value", "path", "params"] as const;
const BOOLEAN_KEYS = ["all", "any", "not"] as const;
const FACT_REF_KEYS = ["fact", "path", "params"] as const;
const TYPES = ["rule", "change", "event"] as const;
const COMPARISONS = new Set(["lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"]);
const MAX_DEPTH = 32;
export const DAY_S = 86_400;
/** Rule ids become file names (`<id>.json`) when added through the local API. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string`;
  return `a ${typeof v}`;
}

class Collector {
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

function checkString(c: Collector, o: Obj, key: string, path: string, required: boolean): void {
  const v = o[key];
  const p = childPath(path, key);
  if (v === undefined) {
    if (required) c.error(p, `missing required key '${key}'`);
    return;
  }
  if (typeof v !== "string") c.error(p, `expected a string, got ${kind(v)}`);
  else if (required && v.trim() === "") c.error(p, `'${key}' must not be empty`);
}

function checkNumber(
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

function checkNode(c: Collector, node: unknown, path: string, depth: number, top: boolean): void {
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

function checkActions(c: Collector, a: unknown, path: string): void {
  if (!isObject(a)) {
    c.error(path, `expected an object, got ${kind(a)}`);
    return;
  }
  c.unknownKeys(a, path, ACTION_KEYS, "actions");
  if (a.alarm !== undefined && typeof a.alarm !== "boolean")
    c.error(childPath(path, "alarm"), `expected true or false, got ${kind(a.alarm)}`);
  if (a.webhook !== undefined) {
    const wp = childPath(path, "webhook");
    if (typeof a.webhook !== "string") c.error(wp, `expected a URL string, got ${kind(a.webhook)}`);
    else if (!/^https?:\/\/\S+$/.test(a.webhook))
      c.error(wp, `expected an http:// or https:// URL, got '${a.webhook}'`);
  }
  if (a.workOrder !== undefined) {
    const wp = childPath(path, "workOrder");
    if (!isObject(a.workOrder)) {
      c.error(wp, `expected an object, got ${kind(a.workOrder)}`);
      return;
    }
    const w = a.workOrder;
    c.unknownKeys(w, wp, WORK_ORDER_KEYS, "workOrder");
    checkNumber(c, w, "priority", wp, { min: 0, max: 3, integer: true });
    for (const k of ["alarmType", "description", "triggerSource", "cameraId", "imageUrl"])
      checkString(c, w, k, wp, false);
  }
}

/** Validates one parsed rule object; returns the normalized rule when it has no errors. */
export function validateRuleObject(
  file: string,
  value: unknown,
  path = "$",
): { rule: RuleDefinition | null; problems: Problem[] } {
  const c = new Collector(file);
  checkRule(c, value, path);
  const ok = !c.problems.some((p) => p.severity !== "warning");
  return { rule: ok ? normalize(value as Obj) : null, problems: c.problems };
}

function checkRule(c: Collector, r: unknown, path: string): void {
  if (!isObject(r)) {
    c.error(path, `expected a rule object, got ${kind(r)}`);
    return;
  }
  const meant = c.unknownKeys(r, path, RULE_KEYS, "a rule");
  const before = c.problems.length;
  checkRuleFields(c, r, path);
  // A misspelt key already says what is missing: drop the echo "missing required key".
  for (let i = c.problems.length - 1; i >= before; i--) {
    const m = /^missing required key '(\w+)'$/.exec((c.problems[i] as Problem).message);
    if (m && meant.has(m[1] as string)) c.problems.splice(i, 1);
  }
}

function checkRuleFields(c: Collector, r: Obj, path: string): void {
  checkString(c, r, "id", path, true);
  if (typeof r.id === "string" && r.id !== "" && !ID_PATTERN.test(r.id))
    c.error(
      childPath(path, "id"),
      `rule id '${r.id}' may use only letters, digits, '_', '-' and '.'`,
      "it names the rule's file",
    );
  checkString(c, r, "key", path, true);
  for (const k of ["name", "title", "message", "description", "did", "fact"]) checkString(c, r, k, path, false);
  if (r.type !== undefined && !TYPES.includes(r.type as never)) {
    const t = r.type;
    c.error(
      childPath(path, "type"),
      typeof t === "string" ? `unknown rule type '${t}'` : `expected a rule type, got ${kind(t)}`,
      typeof t === "string" ? suggestion(t, TYPES) : `one of: 'rule', 'change', 'event'`,
    );
  }
  if ((r.type === "change" || r.type === "event") && (r.fact === undefined || r.fact === ""))
    c.error(
      childPath(path, "fact"),
      `missing required key 'fact' for type '${r.type}'`,
      r.type === "change" ? "name the metric whose change triggers the rule" : "name the event the device reports",
    );
  if (r.isEnable !== undefined && typeof r.isEnable !== "boolean")
    c.error(childPath(path, "isEnable"), `expected true or false, got ${kind(r.isEnable)}`);
  if (r.level === undefined)
    c.error(
      childPath(path, "level"),
      `missing required key 'level'`,
      "0–5: 5 fatal, 4 critical, 3/2 warning, 1/0 info",
    );
  else checkNumber(c, r, "level", path, { min: 0, max: 5, integer: true });
  checkNumber(c, r, "period", path, { min: 0, unit: "seconds" });
  checkNumber(c, r, "for", path, { min: 0, unit: "seconds" });
  checkNumber(c, r, "start", path, { min: 0, max: DAY_S, unit: "seconds of the day" });
  checkNumber(c, r, "end", path, { min: 0, max: DAY_S, unit: "seconds of the day" });
  if (typeof r.start === "number" && typeof r.end === "number" && r.start === r.end && r.start !== 0)
    c.warn(childPath(path, "end"), `start equals end: the rule is active all day`, "set end to the end of the window");
  if (r.conditions === undefined)
    c.error(childPath(path, "conditions"), `missing required key 'conditions'`, `e.g. {"all": [ … ]}`);
  else checkNode(c, r.conditions, childPath(path, "conditions"), 1, true);
  if (r.warnConditions !== undefined) checkNode(c, r.warnConditions, childPath(path, "warnConditions"), 1, true);
  if (r.actions !== undefined) checkActions(c, r.actions, childPath(path, "actions"));
}

function normalize(r: Obj): RuleDefinition {
  const def = structuredClone(r) as unknown as RuleDefinition;
  if (def.name === undefined) def.name = def.id;
  if (def.type === undefined) def.type = "rule";
  return def;
}

/** Parses a rule file's text: one rule or an array of rules. `rules` holds only the valid document's rules. */
export function parseRuleDocument(file: string, text: string): { rules: RuleDefinition[]; problems: Problem[] } {
  const parsed = parseJsonText(text, file);
  if (parsed.value === undefined) return { rules: [], problems: parsed.problems };
  const problems: Problem[] = [...parsed.problems];
  const doc = parsed.value;
  const items: [unknown, string][] = Array.isArray(doc) ? doc.map((r, i) => [r, `$[${i}]`]) : [[doc, "$"]];
  const rules: RuleDefinition[] = [];
  const ids = new Map<string, string>();
  for (const [item, path] of items) {
    const v = validateRuleObject(file, item, path);
    problems.push(...v.problems);
    if (v.rule) {
      const before = ids.get(v.rule.id);
      if (before !== undefined)
        problems.push({
          file,
          path: `${path}.id`,
          message: `duplicate rule id '${v.rule.id}'`,
          hint: `also at ${before}`,
        });
      else ids.set(v.rule.id, path);
      rules.push(v.rule);
    }
  }
  const ok = !problems.some((p) => p.severity !== "warning");
  return { rules: ok ? rules : [], problems };
}

/** Whether a problem list makes its file invalid (warnings do not). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity !== "warning");
}
