// Builds the human and machine description of an alarm from its rule and the device's facts:
// `message` ("voltage 253.1 > 250 (Over-voltage on incomer)") and `details` (the facts the rule
// uses, the thresholds, the leaves that held). Runs only on transitions, never per reading.

import { setOwn, toDisplayJson } from "../core/json-value.js";
import type { CompiledRule, ConditionLevel } from "../core/ports.js";
import type { Alarm, AlarmStatus, Condition, ConditionLeaf, DeviceState, Reading } from "../core/types.js";

const SYMBOL: Record<string, string> = {
  equal: "=",
  notEqual: "!=",
  lessThan: "<",
  lessThanInclusive: "<=",
  greaterThan: ">",
  greaterThanInclusive: ">=",
  in: "in",
  notIn: "not in",
  contains: "contains",
  doesNotContain: "does not contain",
};

function isLeaf(c: Condition): c is ConditionLeaf {
  return typeof (c as ConditionLeaf).fact === "string";
}

function walk(c: Condition | undefined, out: ConditionLeaf[]): void {
  if (c === undefined || c === null) return;
  if (isLeaf(c)) out.push(c);
  else if ("all" in c) for (const x of c.all) walk(x, out);
  else if ("any" in c) for (const x of c.any) walk(x, out);
  else if ("not" in c) walk(c.not, out);
}

/** Value of `$.a.b[0]`-style paths (the subset json-rules-engine users write in rules). */
function atPath(v: unknown, path: string | undefined): unknown {
  if (!path) return v;
  let cur = v;
  for (const part of path.replace(/^\$\.?/, "").split(/\.|\[(\d+)\]/)) {
    if (part === undefined || part === "") continue;
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function threshold(leaf: ConditionLeaf, facts: Readonly<Record<string, unknown>>): unknown {
  const v = leaf.value;
  if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof (v as { fact?: unknown }).fact === "string") {
    const ref = v as { fact: string; path?: string };
    return atPath(facts[ref.fact], ref.path);
  }
  return v;
}

function holds(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case "equal":
      return a === b;
    case "notEqual":
      return a !== b;
    case "lessThan":
      return typeof a === "number" && typeof b === "number" && a < b;
    case "lessThanInclusive":
      return typeof a === "number" && typeof b === "number" && a <= b;
    case "greaterThan":
      return typeof a === "number" && typeof b === "number" && a > b;
    case "greaterThanInclusive":
      return typeof a === "number" && typeof b === "number" && a >= b;
    case "in":
      return Array.isArray(b) && b.includes(a);
    case "notIn":
      return Array.isArray(b) && !b.includes(a);
    case "contains":
      return Array.isArray(a) && a.includes(b);
    case "doesNotContain":
      return Array.isArray(a) && !a.includes(b);
    default:
      return false;
  }
}

function fmt(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return JSON.stringify(v) ?? String(v);
}

export interface HeldLeaf {
  fact: string;
  path?: string;
  operator: string;
  threshold: unknown;
  actual: unknown;
}

/** The leaves of the condition tree of `level` that hold for the facts (first is the headline). */
export function heldLeaves(
  rule: CompiledRule,
  level: ConditionLevel,
  facts: Readonly<Record<string, unknown>>,
): HeldLeaf[] {
  const leaves: ConditionLeaf[] = [];
  walk(level === 1 ? rule.def.warnConditions : rule.def.conditions, leaves);
  const out: HeldLeaf[] = [];
  for (const leaf of leaves) {
    const actual = atPath(facts[leaf.fact], leaf.path);
    const t = threshold(leaf, facts);
    if (!holds(leaf.operator, actual, t)) continue;
    const h: HeldLeaf = { fact: leaf.fact, operator: leaf.operator, threshold: t, actual };
    if (leaf.path !== undefined) h.path = leaf.path;
    out.push(h);
  }
  return out;
}

export function describe(
  rule: CompiledRule,
  level: ConditionLevel,
  device: DeviceState,
  reading: Reading | null,
): { message: string; details: Record<string, unknown> } {
  const def = rule.def;
  const facts: Readonly<Record<string, unknown>> = reading ? { ...device.values, ...reading.values } : device.values;
  const held = level > 0 ? heldLeaves(rule, level, facts) : [];
  const title = def.title ?? def.name;
  let message = def.message;
  if (message === undefined || message === "") {
    const first = held[0];
    message = first
      ? `${first.fact}${first.path ? first.path.replace(/^\$/, "") : ""} ${fmt(first.actual)} ${SYMBOL[first.operator] ?? first.operator} ${fmt(first.threshold)} (${title})`
      : title;
  }
  const used: ConditionLeaf[] = [];
  walk(def.conditions, used);
  walk(def.warnConditions, used);
  const factValues: Record<string, unknown> = {};
  // Values as the rule saw them (NaN/±Infinity as "NaN"/"Infinity"/"-Infinity", not null); own keys only.
  for (const leaf of used)
    if (!Object.hasOwn(factValues, leaf.fact))
      setOwn(factValues, leaf.fact, toDisplayJson(Object.hasOwn(facts, leaf.fact) ? facts[leaf.fact] : null) ?? null);
  const thresholds = used.map((l) => ({
    fact: l.fact,
    operator: l.operator,
    value: l.value,
    ...(l.path ? { path: l.path } : {}),
  }));
  const details: Record<string, unknown> = {
    facts: factValues,
    thresholds,
    held: toDisplayJson(held),
    levelReached: level,
    for: def.for ?? 0,
  };
  if (reading) details.readingTs = reading.ts;
  return { message, details };
}

/** A fresh alarm for a new episode; the caller assigns id and timestamps. */
export function buildAlarm(
  id: string,
  rule: CompiledRule,
  device: DeviceState,
  status: AlarmStatus,
  reading: Reading | null,
  now: number,
): Alarm {
  const def = rule.def;
  const { message, details } = describe(rule, status as ConditionLevel, device, reading);
  const resource: Alarm["resource"] = { id: device.id, product: device.product };
  if (device.name !== undefined) resource.name = device.name;
  if (device.areaId !== undefined) resource.areaId = device.areaId;
  return {
    id,
    ruleId: def.id,
    name: def.name,
    title: def.title ?? def.name,
    message,
    type: def.type,
    level: def.level,
    status,
    resource,
    location: device.location ?? null,
    details,
    period: def.period ?? 0,
    created: now,
    updated: now,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
  };
}
