// Collecting the problems of a user's document (rule and task files): errors and warnings with the
// file and JSON path, "did you mean" for unknown keys, and the common string and number checks.
// Never throws for user input.

import type { Problem } from "../core/errors.js";
import { suggestion } from "./did-you-mean.js";
import { childPath } from "./json-scan.js";

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
