// The platform's vocabulary for rules and how a rule as written (in rules/*.json or a /rule/add
// body) becomes the normalized RuleDefinition the engine and the alarm service use: named levels
// and periods mapped to numbers, `interval` folded into `period`, a missing id derived or assigned.
// The document as written is kept apart for the API, which answers with what it was given.

import { basename } from "node:path";
import { objectId } from "../core/object-id.js";
import type { RuleDefinition } from "../core/types.js";

/** Alarm levels by name (the platform also calls 2 "warning" and 0 "info"; a name maps to the higher). */
export const LEVEL_NAMES: Readonly<Record<string, number>> = { fatal: 5, critical: 4, warning: 3, info: 1 };

/** Silence periods by name, in seconds; OFF records alarms and runs no action or notification. */
export const PERIOD_NAMES: Readonly<Record<string, number>> = {
  ONCE: 0,
  ONCE_A_MINUTE: 60,
  ONCE_AN_HOUR: 3_600,
  ONCE_A_DAY: 86_400,
  ONCE_A_WEEK: 604_800,
  OFF: 0,
};

export const DEFAULT_LEVEL = 2;

/** The platform's rule names: letters and digits only. */
export const PLATFORM_NAME = /^[A-Za-z0-9]+$/;

/** Rule ids become file names (`<id>.json`) when added through the local API. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** A level as written: 0–5 or a name (any case). Null when it is neither. */
export function parseLevel(v: unknown): number | null {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v <= 5 ? v : null;
  if (typeof v === "string") return LEVEL_NAMES[v.trim().toLowerCase()] ?? null;
  return null;
}

export interface Period {
  seconds: number;
  off: boolean;
}

/** A period as written: seconds (a number or a numeric string, ≥ 0) or a name (any case). Null otherwise. */
export function parsePeriod(v: unknown): Period | null {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? { seconds: v, off: false } : null;
  if (typeof v !== "string") return null;
  const s = v.trim();
  if (s === "") return null;
  const named = PERIOD_NAMES[s.toUpperCase()];
  if (named !== undefined) return { seconds: named, off: s.toUpperCase() === "OFF" };
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? { seconds: n, off: false } : null;
}

function idPart(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 100);
  return /^[A-Za-z0-9]/.test(clean) ? clean : `r${clean}`;
}

/** Names usable in a derived id as they are. */
const NAME_FOR_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Ids for the rules of a file that do not give one, stable across restarts:
 * - a file holding one rule (an object): the file name without `.json` (`pump.json` → `pump`);
 * - a file holding an array: `<file>.<name>` when the rule's name is letters, digits, `_` or `-`
 *   and no other id-less rule of the file has the same name (unaffected by edits to other rules),
 *   else `<file>.<position>` counted from 0 (`pumps.json`, third rule → `pumps.2`).
 * Characters other than letters, digits, `_`, `.`, `-` in the file name become `_`.
 * Returns one entry per item; undefined where the item has its own id (or is not an object).
 */
export function derivedIds(file: string, items: readonly unknown[], isArray: boolean): (string | undefined)[] {
  const stem = idPart(basename(file).replace(/\.json$/i, ""));
  const idless = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v) && (v as Record<string, unknown>).id === undefined;
  if (!isArray) return items.map((v) => (idless(v) ? stem : undefined));
  const names = new Map<string, number>();
  for (const v of items) {
    if (idless(v) && typeof v.name === "string") names.set(v.name, (names.get(v.name) ?? 0) + 1);
  }
  return items.map((v, i) => {
    if (!idless(v)) return undefined;
    const name = v.name;
    if (typeof name === "string" && NAME_FOR_ID.test(name) && names.get(name) === 1) return `${stem}.${name}`;
    return `${stem}.${i}`;
  });
}

/** A platform-style id for a rule added through the API: 4 bytes of seconds then 8 random bytes, in hex. */
export function newRuleId(nowMs: number): string {
  return objectId(nowMs);
}

type Obj = Record<string, unknown>;

/** The normalized definition of a valid rule document (validation has run: the fields parse). */
export function normalizeRule(doc: Obj, id: string): RuleDefinition {
  const copy = structuredClone(doc);
  const period = parsePeriod(copy.period ?? copy.interval);
  delete copy.interval;
  delete copy.ownerId;
  delete copy.period;
  const def = copy as unknown as RuleDefinition;
  def.id = id;
  def.name = typeof doc.name === "string" ? doc.name : id;
  def.type = (doc.type as RuleDefinition["type"] | undefined) ?? "rule";
  def.level = doc.level === undefined ? DEFAULT_LEVEL : (parseLevel(doc.level) ?? DEFAULT_LEVEL);
  if (period !== null) {
    if (period.off) def.off = true;
    else def.period = period.seconds;
  }
  return def;
}
