// The task shapes of the local API, defined once for the API and the tests: the platform's task
// object (defaults applied, every other field as written) with the agent's own facts beside it
// (`file`, `problems`, `nextRun`, `lastRun`, `runs`), and the platform's list
// `{total, offset, limit, tasks}` with paging, order, orderBy and q.

import type { Problem } from "../core/errors.js";
import type { TaskEntry } from "./admin.js";
import type { TaskRun, TaskRuntime } from "./types.js";

export type TaskShape = Record<string, unknown> & {
  id: string;
  /** The task file it lives in, relative to tasksDir. */
  file: string;
  /** Present when there is something to say: warnings, or errors of a newer version of its file. */
  problems?: Problem[];
  /** The next slot it will run for (epoch ms), or null. */
  nextRun?: number | null;
  /** Its latest run, or null when it never ran. */
  lastRun?: TaskRun | null;
  /** Its latest runs, newest first (/task/get). */
  runs?: TaskRun[];
};

/** Fields the agent answers beside the platform's: ignored in a body, so a task read can be posted back. */
export const AGENT_TASK_FIELDS = ["file", "problems", "nextRun", "lastRun", "runs"] as const;

export function withoutAgentTaskFields(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  for (const k of AGENT_TASK_FIELDS) delete out[k];
  return out;
}

/** Runs shown by /task/get. */
export const TASK_GET_RUNS = 20;

export function taskShape(e: TaskEntry, runtime: TaskRuntime | undefined, runs = 0): TaskShape {
  // The id first, as the platform answers it.
  const { id, ...rest } = e.def;
  const out: TaskShape = { id, ...rest, file: e.file };
  if (e.problems.length > 0) out.problems = e.problems;
  if (runtime) {
    out.nextRun = runtime.nextRun(e.def.id);
    const recent = runtime.runs(e.def.id, Math.max(1, runs));
    out.lastRun = recent[0] ?? null;
    if (runs > 0) out.runs = recent;
  }
  return out;
}

/** The platform's sortable task fields, plus `id`. */
export const TASK_SORT_FIELDS = ["name", "type", "isEnable", "created", "updated", "id"] as const;
export type TaskSortField = (typeof TASK_SORT_FIELDS)[number];

export const DEFAULT_TASK_LIMIT = 100;
export const MAX_TASK_LIMIT = 1000;

export interface TaskListQuery {
  offset: number;
  limit: number;
  order: "asc" | "desc";
  orderBy?: TaskSortField | undefined;
  /** Case-insensitive text searched in name, id and description. */
  q?: string | undefined;
}

export interface TaskList {
  total: number;
  offset: number;
  limit: number;
  tasks: TaskShape[];
  /** Beside the platform's fields: every current problem of the task files (also files with no task in force). */
  problems: Problem[];
}

type Sortable = string | number | boolean | undefined;

function sortValue(e: TaskEntry, field: TaskSortField): Sortable {
  const v = e.def[field];
  if (field === "created" || field === "updated") {
    if (typeof v === "number") return v;
    if (typeof v === "string") {
      const t = Date.parse(v);
      return Number.isNaN(t) ? undefined : t;
    }
    return undefined;
  }
  return typeof v === "string" || typeof v === "boolean" || typeof v === "number" ? v : undefined;
}

const TYPE_RANK: Record<string, number> = { undefined: 0, boolean: 1, number: 2, string: 3 };

function compare(a: Sortable, b: Sortable): number {
  if (a === b) return 0;
  const ta = TYPE_RANK[typeof a] ?? 4;
  const tb = TYPE_RANK[typeof b] ?? 4;
  if (ta !== tb) return ta - tb;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

function matches(e: TaskEntry, needle: string): boolean {
  for (const s of [e.def.name, e.def.id, e.def.description])
    if (typeof s === "string" && s.toLowerCase().includes(needle)) return true;
  return false;
}

/**
 * Filters by `q`, sorts by `orderBy` (missing values first in `asc`; equal values keep the order in
 * force: file name, then position in the file) or, without `orderBy`, keeps that order (`desc`
 * reverses it), then pages.
 */
export function listTasks(
  entries: readonly TaskEntry[],
  query: TaskListQuery,
  problems: readonly Problem[],
  runtime: TaskRuntime | undefined,
): TaskList {
  let rows = [...entries];
  if (query.q !== undefined && query.q !== "") {
    const needle = query.q.toLowerCase();
    rows = rows.filter((e) => matches(e, needle));
  }
  const dir = query.order === "desc" ? -1 : 1;
  const by = query.orderBy;
  if (by !== undefined) rows.sort((a, b) => dir * compare(sortValue(a, by), sortValue(b, by)));
  else if (dir < 0) rows.reverse();
  return {
    total: rows.length,
    offset: query.offset,
    limit: query.limit,
    tasks: rows.slice(query.offset, query.offset + query.limit).map((e) => taskShape(e, runtime)),
    problems: [...problems],
  };
}
