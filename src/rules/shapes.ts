// The rule shapes of the local API, defined once for the API, the CLI and the tests: the platform's
// rule object (as written, with its id) with the agent's own facts beside it (`file`, `problems`),
// and the platform's list `{total, offset, limit, rules}` with paging, order, orderBy and q.

import type { Problem } from "../core/errors.js";
import type { RuleEntry } from "../core/ports.js";
import type { RuleDefinition } from "../core/types.js";

/** A rule as the API answers: the platform's fields as written, then `file` and `problems` beside them. */
export type RuleShape = Record<string, unknown> & {
  id: string;
  /** The rule file it lives in. */
  file: string;
  /** Present when there is something to say: warnings, or errors of a newer version of its file. */
  problems?: Problem[];
};

export function ruleShape(e: RuleEntry): RuleShape {
  return { ...e.doc, id: e.def.id, file: e.file, ...(e.problems.length > 0 ? { problems: e.problems } : {}) };
}

/** Fields the agent answers beside the platform's: ignored in a body, so a rule read can be posted back. */
export const AGENT_FIELDS = ["file", "problems"] as const;

export function withoutAgentFields(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  for (const k of AGENT_FIELDS) delete out[k];
  return out;
}

/** The platform's sortable rule fields, plus `id`, `title` and `level`. */
export const RULE_SORT_FIELDS = [
  "created",
  "did",
  "end",
  "fact",
  "isEnable",
  "key",
  "name",
  "period",
  "recipient",
  "start",
  "type",
  "updated",
  "id",
  "title",
  "level",
] as const;
export type RuleSortField = (typeof RULE_SORT_FIELDS)[number];

export const DEFAULT_RULE_LIMIT = 100;
export const MAX_RULE_LIMIT = 1000;

export interface RuleListQuery {
  offset: number;
  limit: number;
  order: "asc" | "desc";
  orderBy?: RuleSortField | undefined;
  /** Case-insensitive text searched in name, title and description. */
  q?: string | undefined;
}

export interface RuleList {
  total: number;
  offset: number;
  limit: number;
  rules: RuleShape[];
  /** Beside the platform's fields: every current problem of the rule files (also files with no rule in force). */
  problems: Problem[];
}

type Sortable = string | number | boolean | undefined;

function dateValue(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** The value a rule is sorted by: numbers for levels, periods, windows and dates, whatever form they were written in. */
function sortValue(d: RuleDefinition, field: RuleSortField): Sortable {
  switch (field) {
    case "created":
    case "updated":
      return dateValue(d[field]);
    case "period":
      // OFF never acts: it sorts after every period.
      return d.off ? Number.POSITIVE_INFINITY : (d.period ?? 0);
    case "start":
      return d.start ?? 0;
    case "end":
      return d.end ?? 86_400;
    case "isEnable":
      return d.isEnable !== false;
    case "level":
      return d.level;
    case "recipient":
      return d.recipient === undefined
        ? undefined
        : typeof d.recipient === "string"
          ? d.recipient
          : JSON.stringify(d.recipient);
    default:
      return d[field];
  }
}

const TYPE_RANK: Record<string, number> = { undefined: 0, boolean: 1, number: 2, string: 3 };

function compare(a: Sortable, b: Sortable): number {
  if (a === b) return 0;
  const ta = TYPE_RANK[typeof a] ?? 4;
  const tb = TYPE_RANK[typeof b] ?? 4;
  if (ta !== tb) return ta - tb;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

function matches(d: RuleDefinition, needle: string): boolean {
  for (const s of [d.name, d.title, d.description])
    if (typeof s === "string" && s.toLowerCase().includes(needle)) return true;
  return false;
}

/**
 * Filters by `q`, sorts by `orderBy` (missing values first in `asc`; equal values keep the order in
 * force: file name, then position in the file) or, without `orderBy`, keeps that order (`desc`
 * reverses it), then pages.
 */
export function listRules(entries: readonly RuleEntry[], query: RuleListQuery, problems: readonly Problem[]): RuleList {
  let rows = [...entries];
  if (query.q !== undefined && query.q !== "") {
    const needle = query.q.toLowerCase();
    rows = rows.filter((e) => matches(e.def, needle));
  }
  const dir = query.order === "desc" ? -1 : 1;
  const by = query.orderBy;
  if (by !== undefined) rows.sort((a, b) => dir * compare(sortValue(a.def, by), sortValue(b.def, by)));
  else if (dir < 0) rows.reverse();
  return {
    total: rows.length,
    offset: query.offset,
    limit: query.limit,
    rules: rows.slice(query.offset, query.offset + query.limit).map(ruleShape),
    problems: [...problems],
  };
}
