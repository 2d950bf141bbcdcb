// The task model (docs/tasks.md): a scheduled list of actions, as the platform's `/task/*` API names
// its fields (`id`, `name`, `type`, `isEnable`, `actions`, `created`, `updated`), with the schedule,
// misfire policy and per-action retry the agent needs to run it on site.

import type { MetricValue } from "../core/types.js";

/** Exactly one of `cron`, `every`, `times`. */
export type TaskSchedule =
  /** A 5-field (or 6-field, with seconds) cron expression in the task's time zone. */
  | { cron: string }
  /** Every N seconds, on multiples of N since the epoch (so slots survive a restart). */
  | { every: number }
  /** Times of day "HH:MM" (or "HH:MM:SS") in the task's time zone, optionally on some weekdays only (1 = Monday … 7 = Sunday). */
  | { times: string[]; days?: number[] };

export interface TaskRetry {
  /** Tries in all, the first included (default 1: no retry). */
  attempts: number;
  /** Wait between tries (default 1000). */
  delayMs: number;
}

interface ActionBase {
  /** Per-try deadline (default: the task's timeoutMs). */
  timeoutMs?: number;
  retry?: Partial<TaskRetry>;
}

export type TaskAction =
  | (ActionBase & { type: "modbus.write"; device: string; point: string; value: MetricValue })
  | (ActionBase & {
      type: "mqtt.publish";
      topic: string;
      /** A string is sent as is; anything else as JSON. */
      payload: unknown;
      qos?: 0 | 1 | 2;
      retain?: boolean;
    })
  | (ActionBase & {
      type: "webhook";
      url: string;
      method?: "POST" | "PUT" | "GET";
      headers?: Record<string, string>;
      /** Sent as JSON (default: the run's summary so far). */
      body?: unknown;
    })
  | (ActionBase & { type: "hook"; hook: string; method: string; args?: unknown })
  | (ActionBase & {
      type: "alarm.raise";
      name: string;
      device?: string;
      level?: number;
      title?: string;
      message?: string;
      details?: Record<string, unknown>;
    })
  /** Resolves the open operator/task alarms of that name (on that device, when given). */
  | (ActionBase & { type: "alarm.resolve"; name: string; device?: string; remark?: string });

export type TaskActionType = TaskAction["type"];

export const TASK_ACTION_TYPES: readonly TaskActionType[] = [
  "modbus.write",
  "mqtt.publish",
  "webhook",
  "hook",
  "alarm.raise",
  "alarm.resolve",
];

/** A task as it is written in a file or sent to /task/add, with defaults applied. */
export interface TaskDefinition {
  id: string;
  name: string;
  /** The platform's field, not used ("暂未使用"): kept as given. */
  type?: string;
  isEnable: boolean;
  description?: string;
  schedule: TaskSchedule;
  /** IANA time zone of `cron` and `times` (default: the agent's `timezone`). */
  timezone?: string;
  /** A slot missed while the agent was down: run it once after start, or skip it (default). */
  misfire: "once" | "skip";
  /** Default per-try deadline of every action (default 10000). */
  timeoutMs: number;
  actions: TaskAction[];
  created?: number;
  updated?: number;
  /** Any other fields of the platform's task object, kept as given. */
  [extra: string]: unknown;
}

/** A task in force and the file it came from. */
export interface LoadedTask {
  def: TaskDefinition;
  /** Path relative to tasksDir, or "api" before it is written. */
  file: string;
}

export type TaskTrigger = "schedule" | "misfire" | "manual";

export interface TaskActionResult {
  index: number;
  type: TaskActionType;
  ok: boolean;
  attempts: number;
  startedAt: number;
  durationMs: number;
  error?: string;
  /** Whatever the action answered that is worth showing (HTTP status, hook result…), JSON. */
  result?: unknown;
}

export interface TaskRun {
  id: number;
  taskId: string;
  /** The slot this run is for (the scheduled instant, ms); for a manual run, its start. */
  slot: number;
  trigger: TaskTrigger;
  started: number;
  /** null while running. */
  ended: number | null;
  status: "running" | "ok" | "failed" | "partial";
  actions: TaskActionResult[];
}

type Listener = () => void;

/**
 * The tasks in force: the loader (files and API) writes them, the scheduler and the API read them.
 * Replaced whole, so a reader never sees half a reload.
 */
export class TaskSet {
  #tasks = new Map<string, LoadedTask>();
  readonly #listeners = new Set<Listener>();

  replace(tasks: readonly LoadedTask[]): void {
    this.#tasks = new Map(tasks.map((t) => [t.def.id, t]));
    for (const l of this.#listeners) l();
  }

  get(id: string): LoadedTask | undefined {
    return this.#tasks.get(id);
  }

  list(): LoadedTask[] {
    return [...this.#tasks.values()];
  }

  /** `listener` runs after every replace(); returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** What the API, the status page and the CLI ask of the running scheduler. */
export interface TaskRuntime {
  /** Recent runs of a task, newest first. */
  runs(taskId: string, limit: number): TaskRun[];
  /** The next slot the scheduler will run the task for (ms), or null (disabled, no future slot). */
  nextRun(taskId: string): number | null;
  /** Starts a run now (trigger "manual"); resolves once it is recorded as started. undefined: no such task. */
  runNow(taskId: string): Promise<TaskRun | undefined>;
}
