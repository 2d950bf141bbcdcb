// The tasks as /status and the status page show them: each task's schedule, whether it is enabled,
// its next slot and its latest run, plus every problem of the task files.

import type { Problem } from "../core/errors.js";
import type { TaskEntry } from "./admin.js";
import type { TaskRun, TaskRuntime, TaskSchedule } from "./types.js";

/** What the summary reads: the task files in force and, once it runs, the scheduler. */
export interface TaskSummary {
  tasks: { entries(): TaskEntry[]; problems(): Problem[] };
  runtime?: TaskRuntime | undefined;
}

export interface TaskLine {
  id: string;
  name: string;
  file: string;
  schedule: TaskSchedule;
  timezone?: string;
  isEnable: boolean;
  nextRun: number | null;
  lastRun: Pick<TaskRun, "id" | "started" | "ended" | "status" | "trigger"> | null;
}

/** The status page lists this many tasks at most; `count` still counts them all. */
export const STATUS_TASKS_MAX = 200;

export function taskSummary(s: TaskSummary): {
  count: number;
  enabled: number;
  tasks: TaskLine[];
  problems: Problem[];
} {
  const entries = s.tasks.entries();
  const lines = entries.slice(0, STATUS_TASKS_MAX).map((e): TaskLine => {
    const last = s.runtime?.runs(e.def.id, 1)[0];
    return {
      id: e.def.id,
      name: e.def.name,
      file: e.file,
      schedule: e.def.schedule,
      ...(e.def.timezone !== undefined ? { timezone: e.def.timezone } : {}),
      isEnable: e.def.isEnable,
      nextRun: s.runtime?.nextRun(e.def.id) ?? null,
      lastRun: last
        ? { id: last.id, started: last.started, ended: last.ended, status: last.status, trigger: last.trigger }
        : null,
    };
  });
  return {
    count: entries.length,
    enabled: entries.filter((e) => e.def.isEnable).length,
    tasks: lines,
    problems: s.tasks.problems(),
  };
}
