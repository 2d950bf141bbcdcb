// /task/* of the local API in the platform's shapes (docs/http-api.md, Tasks): the task object with
// its defaults applied, lists as {total, offset, limit, tasks}; the agent's own facts (`file`,
// `problems`, `nextRun`, `lastRun`, `runs`) stand beside the platform's fields. /task/run starts a
// run now. Refusals: 104001 naming the first offending field (with every problem: file, JSON path,
// reason), 104004 for an unknown id.

import type { Logger } from "../../core/log.js";
import type { AdminResult } from "../../core/ports.js";
import type { TaskEntry, TaskFiles } from "../../tasks/admin.js";
import {
  DEFAULT_TASK_LIMIT,
  listTasks,
  MAX_TASK_LIMIT,
  TASK_GET_RUNS,
  TASK_SORT_FIELDS,
  type TaskListQuery,
  type TaskShape,
  type TaskSortField,
  taskShape,
  withoutAgentTaskFields,
} from "../../tasks/shapes.js";
import type { TaskRun, TaskRuntime } from "../../tasks/types.js";
import { CODES, HttpError, invalid, missing, notFound, problemRefusal } from "../errors.js";
import { intParam, stringField } from "../params.js";
import type { AddRoute } from "./route.js";

export interface TaskRouteDeps {
  tasks: Pick<TaskFiles, "entries" | "get" | "add" | "update" | "del" | "problems">;
  /** The scheduler; absent while it is not running (runs and next slots are then left out). */
  runtime?: TaskRuntime | undefined;
  log: Logger;
}

/** `offset` (0), `limit` (100, at most 1000), `order` (asc), `orderBy` (a sortable field), `q`. */
export function parseTaskList(q: URLSearchParams): TaskListQuery {
  const order = q.get("order") || "asc";
  if (order !== "asc" && order !== "desc") throw invalid("order", "expected one of asc, desc");
  const orderBy = q.get("orderBy") || undefined;
  if (orderBy !== undefined && !(TASK_SORT_FIELDS as readonly string[]).includes(orderBy))
    throw invalid("orderBy", `expected one of ${TASK_SORT_FIELDS.join(", ")}`);
  return {
    offset: intParam(q, "offset", Number.MAX_SAFE_INTEGER) ?? 0,
    limit: intParam(q, "limit", MAX_TASK_LIMIT) ?? DEFAULT_TASK_LIMIT,
    order,
    orderBy: orderBy as TaskSortField | undefined,
    q: q.get("q") || undefined,
  };
}

export function taskRoutes(route: AddRoute, { tasks, runtime, log }: TaskRouteDeps): void {
  const answer = (r: AdminResult<TaskEntry>, id: string): TaskShape => {
    if (r.ok) return taskShape(r.value, runtime);
    if (r.notFound) throw notFound("Task", id);
    throw problemRefusal(r.problems, "task is invalid");
  };
  route("/task/list", "GET", ({ url }) =>
    listTasks(tasks.entries(), parseTaskList(url.searchParams), tasks.problems(), runtime),
  );
  route("/task/get", "GET", ({ url }) => {
    const id = url.searchParams.get("id");
    if (id === null || id.trim() === "") throw missing("id");
    const e = tasks.get(id);
    if (!e) throw notFound("Task", id);
    return taskShape(e, runtime, TASK_GET_RUNS);
  });
  route("/task/add", "POST", async (ctx) => {
    const out = answer(await tasks.add(withoutAgentTaskFields(await ctx.body())), "");
    log.info({ taskId: out.id, file: out.file }, "task added through the local API");
    return out;
  });
  route("/task/update", "POST", async (ctx) => {
    const body = await ctx.body();
    const id = stringField(body, "id");
    const out = answer(await tasks.update(withoutAgentTaskFields(body)), id);
    log.info({ taskId: id, file: out.file }, "task updated through the local API");
    return out;
  });
  route("/task/del", "POST", async (ctx) => {
    const id = stringField(await ctx.body(), "id");
    const out = answer(await tasks.del(id), id);
    log.info({ taskId: id, file: out.file }, "task deleted through the local API");
    return out;
  });
  route("/task/run", "POST", async (ctx): Promise<TaskRun> => {
    const id = stringField(await ctx.body(), "id");
    if (!tasks.get(id)) throw notFound("Task", id);
    if (!runtime)
      throw new HttpError(503, CODES.unavailable, "Tasks are not running (the agent is starting or stopping)");
    const run = await runtime.runNow(id);
    if (!run) throw notFound("Task", id);
    log.info({ taskId: id, runId: run.id }, "task run started through the local API");
    return run;
  });
}
