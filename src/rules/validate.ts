// Validation of rule documents (docs/rules.md): strict JSON with line:column, then every problem with
// file, JSON path, reason and a hint ("did you mean"). Never throws for user input. A valid
// document yields normalized RuleDefinitions (see normalize.ts) and the documents as written.

import { suggestion } from "../config/did-you-mean.js";
import { childPath } from "../config/json-scan.js";
import { parseJsonText } from "../config/load.js";
import type { Problem } from "../core/errors.js";
import type { RuleDefinition } from "../core/types.js";
import {
  derivedIds,
  ID_PATTERN,
  LEVEL_NAMES,
  normalizeRule,
  PERIOD_NAMES,
  PLATFORM_NAME,
  parseLevel,
  parsePeriod,
} from "./normalize.js";
import { Collector, checkNode, checkNumber, checkString, isObject, kind, type Obj } from "./validate-conditions.js";

export { OPERATORS } from "./validate-conditions.js";

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
  "interval",
  "recipient",
  "created",
  "updated",
  "ownerId",
  "start",
  "end",
  "for",
  "conditions",
  "warnConditions",
  "actions",
] as const;
const ACTION_KEYS = ["alarm", "workOrder", "webhook", "email", "wechat"] as const;
const CHANNEL_PREFIX = "channel:";
const WORK_ORDER_KEYS = ["priority", "alarmType", "description", "triggerSource", "cameraId", "imageUrl"] as const;
const TYPES = ["rule", "change", "event"] as const;
export const DAY_S = 86_400;
const LEVELS_ACCEPTED = `0–5 or one of ${Object.keys(LEVEL_NAMES)
  .map((n) => `'${n}'`)
  .join(", ")}`;
const PERIODS_ACCEPTED = `seconds (a number ≥ 0) or one of ${Object.keys(PERIOD_NAMES)
  .map((n) => `'${n}'`)
  .join(", ")}`;

function checkActions(c: Collector, a: unknown, path: string): void {
  if (!isObject(a)) {
    c.error(path, `expected an object, got ${kind(a)}`);
    return;
  }
  // `channel:<name>` keys name a channel a hook provides (docs/notifications.md): any name is accepted here.
  const builtIn = Object.fromEntries(Object.entries(a).filter(([k]) => !k.startsWith(CHANNEL_PREFIX)));
  c.unknownKeys(builtIn, path, ACTION_KEYS, "actions");
  for (const [k, v] of Object.entries(a)) {
    if (!k.startsWith(CHANNEL_PREFIX)) continue;
    const cp = childPath(path, k);
    if (!/^channel:[A-Za-z0-9_-]+$/.test(k))
      c.error(cp, `invalid channel name '${k.slice(CHANNEL_PREFIX.length)}'`, "use letters, digits, _ and -");
    else if (typeof v !== "string" || v.trim() === "")
      c.error(cp, `expected a string (the ${k} recipient), got ${kind(v)}`);
  }
  if (a.alarm !== undefined && typeof a.alarm !== "boolean")
    c.error(childPath(path, "alarm"), `expected true or false, got ${kind(a.alarm)}`);
  if (a.webhook !== undefined) {
    const wp = childPath(path, "webhook");
    if (typeof a.webhook !== "string") c.error(wp, `expected a URL string, got ${kind(a.webhook)}`);
    else if (!/^https?:\/\/\S+$/.test(a.webhook))
      c.error(wp, `expected an http:// or https:// URL, got '${a.webhook}'`);
  }
  for (const channel of ["email", "wechat"] as const) {
    const v = a[channel];
    if (v !== undefined && typeof v !== "string")
      c.error(childPath(path, channel), `expected a string (the ${channel} recipient), got ${kind(v)}`);
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

export interface ValidatedRule {
  /** The normalized definition; null when the document has errors. */
  rule: RuleDefinition | null;
  /** The document as written (a copy), when valid. */
  doc: Obj | null;
  problems: Problem[];
}

/**
 * Validates one parsed rule object; returns the normalized rule when it has no errors. A rule
 * without an id gets `fallbackId` (by default the id derived from the file name, as for a file
 * holding this one rule).
 */
export function validateRuleObject(file: string, value: unknown, path = "$", fallbackId?: string): ValidatedRule {
  const c = new Collector(file);
  checkRule(c, value, path);
  const ok = !c.problems.some((p) => p.severity !== "warning");
  if (!ok) return { rule: null, doc: null, problems: c.problems };
  const doc = structuredClone(value as Obj);
  const id = typeof doc.id === "string" ? doc.id : (fallbackId ?? (derivedIds(file, [doc], false)[0] as string));
  return { rule: normalizeRule(doc, id), doc, problems: c.problems };
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
  checkString(c, r, "id", path, false);
  if (r.id === "") c.error(childPath(path, "id"), `'id' must not be empty`, "remove it to have one derived");
  if (typeof r.id === "string" && r.id !== "" && !ID_PATTERN.test(r.id))
    c.error(
      childPath(path, "id"),
      `rule id '${r.id}' may use only letters, digits, '_', '-' and '.'`,
      "it names the rule's file",
    );
  checkString(c, r, "key", path, true);
  for (const k of ["name", "title", "message", "description", "did", "fact", "ownerId"])
    checkString(c, r, k, path, false);
  if (typeof r.name === "string" && !PLATFORM_NAME.test(r.name))
    c.warn(
      childPath(path, "name"),
      `the platform allows only letters and digits in a rule name, got '${r.name}'`,
      "rename it before the rule goes to the platform",
    );
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
  checkLevel(c, r.level, childPath(path, "level"));
  checkPeriods(c, r, path);
  if (r.recipient !== undefined && typeof r.recipient !== "string" && !isObject(r.recipient))
    c.error(
      childPath(path, "recipient"),
      `expected a recipient id (a string) or a recipient object, got ${kind(r.recipient)}`,
    );
  for (const k of ["created", "updated"]) {
    const v = r[k];
    if (v === undefined) continue;
    const ok = (typeof v === "number" && Number.isFinite(v) && v >= 0) || (typeof v === "string" && v.trim() !== "");
    if (!ok) c.error(childPath(path, k), `expected epoch milliseconds or a date string, got ${kind(v)}`);
  }
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

function shown(v: unknown): string {
  return typeof v === "string" ? `'${v}'` : kind(v);
}

function checkLevel(c: Collector, v: unknown, p: string): void {
  if (v === undefined || parseLevel(v) !== null) return;
  if (typeof v === "number" && Number.isFinite(v)) {
    if (!Number.isInteger(v)) c.error(p, `expected a whole number, got ${v}`);
    else c.error(p, `level ${v} is out of range 0..5`, `accepted: ${LEVELS_ACCEPTED}`);
    return;
  }
  const hint = typeof v === "string" ? suggestion(v.toLowerCase(), Object.keys(LEVEL_NAMES)) : undefined;
  c.error(
    p,
    `expected a level ${LEVELS_ACCEPTED}, got ${shown(v)}`,
    hint?.startsWith("did you mean") ? hint : undefined,
  );
}

/** `period` and its alias `interval`: each valid, and the same setting when both are given. */
function checkPeriods(c: Collector, r: Obj, path: string): void {
  const parsed: Partial<Record<"period" | "interval", { seconds: number; off: boolean }>> = {};
  for (const k of ["period", "interval"] as const) {
    const v = r[k];
    if (v === undefined) continue;
    const p = parsePeriod(v);
    if (p !== null) {
      parsed[k] = p;
      continue;
    }
    const hint = typeof v === "string" ? suggestion(v.toUpperCase(), Object.keys(PERIOD_NAMES)) : undefined;
    c.error(
      childPath(path, k),
      typeof v === "number" && Number.isFinite(v)
        ? `${k} ${v} is out of range >= 0 seconds`
        : `expected ${k === "interval" ? "an interval" : "a period"} in ${PERIODS_ACCEPTED}, got ${shown(v)}`,
      hint?.startsWith("did you mean") ? hint : undefined,
    );
  }
  const a = parsed.period;
  const b = parsed.interval;
  if (a && b && (a.seconds !== b.seconds || a.off !== b.off)) {
    const say = (x: { seconds: number; off: boolean }) => (x.off ? "OFF" : `${x.seconds} s`);
    c.error(
      childPath(path, "interval"),
      `'interval' (${say(b)}) and 'period' (${say(a)}) disagree: they are the same setting`,
      "keep one of them",
    );
  }
}

/**
 * Parses a rule file's text: one rule or an array of rules. `rules` holds only the valid document's
 * rules (normalized, ids derived where the file gives none) and `docs` the same rules as written.
 */
export function parseRuleDocument(
  file: string,
  text: string,
): { rules: RuleDefinition[]; docs: Record<string, unknown>[]; problems: Problem[] } {
  const parsed = parseJsonText(text, file);
  if (parsed.value === undefined) return { rules: [], docs: [], problems: parsed.problems };
  const problems: Problem[] = [...parsed.problems];
  const doc = parsed.value;
  const list = Array.isArray(doc) ? doc : [doc];
  const derived = derivedIds(file, list, Array.isArray(doc));
  const rules: RuleDefinition[] = [];
  const docs: Record<string, unknown>[] = [];
  const ids = new Map<string, string>();
  list.forEach((item, i) => {
    const path = Array.isArray(doc) ? `$[${i}]` : "$";
    const v = validateRuleObject(file, item, path, derived[i]);
    problems.push(...v.problems);
    if (v.rule && v.doc) {
      const before = ids.get(v.rule.id);
      if (before !== undefined)
        problems.push({
          file,
          path: `${path}.id`,
          message: `duplicate rule id '${v.rule.id}'`,
          hint: derived[i] === undefined ? `also at ${before}` : `also at ${before}; give the rule its own "id"`,
        });
      else ids.set(v.rule.id, path);
      rules.push(v.rule);
      docs.push(v.doc);
    }
  });
  const ok = !problems.some((p) => p.severity !== "warning");
  return { rules: ok ? rules : [], docs: ok ? docs : [], problems };
}

/** Whether a problem list makes its file invalid (warnings do not). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity !== "warning");
}
