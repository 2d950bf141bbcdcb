// How a task as written (in tasks/*.json or a /task/add body) becomes the TaskDefinition the
// scheduler runs (docs/tasks.md, Task files): a missing id derived from the file, the defaults
// applied (isEnable true, misfire "skip", timeoutMs from the config), every other field kept as
// given. The document as written stays apart: files are rewritten from it, never from the defaults.

import { basename } from "node:path";
import { objectId } from "../core/object-id.js";
import type { TaskDefinition } from "./types.js";

/** Task ids become file names (`<id>.json`) when added through the local API. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The platform's task names: letters and digits only. */
export const PLATFORM_TASK_NAME = /^[A-Za-z0-9]+$/;

export const DEFAULT_MISFIRE = "skip";

/** What the defaults come from (the config's `tasks` section). */
export interface TaskDefaults {
  defaultTimeoutMs: number;
}

function stemOf(file: string): string {
  const clean = basename(file)
    .replace(/\.json$/i, "")
    .replace(/[^A-Za-z0-9_.-]/g, "_")
    .slice(0, 100);
  return /^[A-Za-z0-9]/.test(clean) ? clean : `t${clean}`;
}

/**
 * Ids for the tasks of a file that give none, stable across restarts: the file name without
 * `.json` for a file holding one task (an object), `<file>.<position>` (from 0) for each task of an
 * array (`night.json`, second task → `night.1`). Characters other than letters, digits, `_`, `.`
 * and `-` in the file name become `_`. One entry per item; undefined where the item has its own id.
 */
export function derivedTaskIds(file: string, items: readonly unknown[], isArray: boolean): (string | undefined)[] {
  const stem = stemOf(file);
  return items.map((v, i) => {
    const own = v !== null && typeof v === "object" && !Array.isArray(v) && (v as { id?: unknown }).id !== undefined;
    if (own) return undefined;
    return isArray ? `${stem}.${i}` : stem;
  });
}

/** A platform-style id (24 hex digits) for a task added through the API without one. */
export function newTaskId(nowMs: number): string {
  return objectId(nowMs);
}

/** The definition of a valid task document (validation has run: the fields have their types). */
export function normalizeTask(doc: Record<string, unknown>, id: string, defaults: TaskDefaults): TaskDefinition {
  const copy = structuredClone(doc);
  const def = copy as TaskDefinition;
  def.id = id;
  def.name = typeof doc.name === "string" && doc.name !== "" ? doc.name : id;
  def.isEnable = doc.isEnable !== false;
  def.misfire = doc.misfire === "once" ? "once" : DEFAULT_MISFIRE;
  def.timeoutMs = typeof doc.timeoutMs === "number" ? doc.timeoutMs : defaults.defaultTimeoutMs;
  return def;
}
