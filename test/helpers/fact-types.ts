// Random facts of every JSON type and random rules over them (fixed seeds), shared by the
// differential tests in-process and through a real MQTT broker.

import type { Condition, Operator, TopLevelCondition } from "../../src/core/types.js";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const OPERATORS: Operator[] = [
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

/** Facts as MQTT delivers them: every JSON type, plus the non-finite numbers 1e999 gives. */
export function everyTypeGenerator(seed: number) {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const STRINGS = ["fault", "ok", "overtemp", "", "12", "12.5", " 41", "41abc", "NaN", "Infinity", "f", "au"];
  const scalar = (): unknown =>
    pick<() => unknown>([
      () => Math.round((r() - 0.5) * 100),
      () => 41,
      () => 12,
      () => (r() - 0.5) * 100,
      () => pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]),
      () => r() < 0.5,
      () => pick(STRINGS),
      () => pick(STRINGS),
      () => null,
    ])();
  const value = (depth: number): unknown => {
    const k = r();
    if (k < 0.5 || depth > 2) return scalar();
    if (k < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.8 ? scalar() : value(depth + 1)));
    const o: Record<string, unknown> = {};
    for (const key of ["temp", "env", "alarms", "state", "0"]) if (r() < 0.5) o[key] = value(depth + 1);
    // Rarely, an object the engine cannot coerce to a primitive (its numeric operators throw on it).
    if (r() < 0.04) Object.defineProperty(o, "toString", { value: scalar(), enumerable: true, writable: true });
    return o;
  };
  const NAMES = ["num", "str", "arr", "obj", "nul", "any1", "any2", "missing"];
  const facts = (): Record<string, unknown> => {
    const f: Record<string, unknown> = {};
    if (r() < 0.9) f.num = r() < 0.2 ? pick([Number.NaN, Number.POSITIVE_INFINITY, -0]) : scalar();
    if (r() < 0.9) f.str = pick(STRINGS);
    if (r() < 0.9) f.arr = Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.8 ? scalar() : value(1)));
    if (r() < 0.9) f.obj = value(0);
    if (r() < 0.9) f.nul = null;
    f.any1 = value(0);
    if (r() < 0.8) f.any2 = value(0);
    return f;
  };
  const PATHS = [
    "$.temp",
    "$.env.temp",
    "$.alarms[0]",
    "$[0]",
    "$[1]",
    "$.length",
    "$.state",
    "$.env",
    "$..temp",
    "$.*",
  ];
  const operand = (): Record<string, unknown> => {
    const c: Record<string, unknown> = { fact: pick(NAMES) };
    if (r() < 0.4) c.path = pick(PATHS);
    return c;
  };
  const leaf = (op: Operator): Condition => {
    const c: Record<string, unknown> = { ...operand(), operator: op };
    const v = r();
    if (v < 0.25) c.value = operand();
    else if ((op === "in" || op === "notIn") && v < 0.8)
      c.value =
        r() < 0.75 ? Array.from({ length: 1 + Math.floor(r() * 3) }, () => scalar()) : pick(["faultok", "12.5", "au"]);
    else c.value = r() < 0.85 ? scalar() : value(1);
    return c as unknown as Condition;
  };
  const node = (depth: number): Condition => {
    const k = r();
    if (depth >= 3 || k < 0.5) return leaf(pick(OPERATORS));
    if (k < 0.6) return { not: node(depth + 1) };
    const list = Array.from({ length: 1 + Math.floor(r() * 3) }, () => node(depth + 1));
    return k < 0.8 ? { all: list } : { any: list };
  };
  const top = (first?: Operator): TopLevelCondition => {
    const list = Array.from({ length: Math.floor(r() * 3) }, () => node(1));
    if (first) list.unshift(leaf(first));
    return r() < 0.5 ? { all: list } : { any: list };
  };
  return { facts, top, r };
}

/**
 * A payload as a device sends it: JSON text where ±Infinity is written 1e999/-1e999 (what JSON.parse
 * turns into ±Infinity) and NaN, which JSON cannot carry, becomes null.
 */
export function toPayload(facts: Record<string, unknown>): string {
  const text = JSON.stringify(facts, (_k, v) =>
    typeof v === "number" && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? "@@INF@@" : "@@NINF@@") : v,
  );
  return text.replaceAll('"@@INF@@"', "1e999").replaceAll('"@@NINF@@"', "-1e999");
}
