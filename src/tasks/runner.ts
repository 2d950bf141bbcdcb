// One run of a task (docs/tasks.md, Actions, timeouts and retries): the actions in order, each try
// under its deadline on the injected clock, a failed action tried again per its own `retry`, and a
// failure never stopping the actions after it. A try that outlives its deadline is abandoned (its
// signal aborts an HTTP request; a hung hook or write is left to settle on its own).

import { DEFAULTS } from "../config/defaults.js";
import type { Clock } from "../core/clock.js";
import { errorMessage } from "../core/errors.js";
import { type ActionPorts, runAction } from "./actions.js";
import type { TaskAction, TaskActionResult, TaskDefinition, TaskRun, TaskTrigger } from "./types.js";

export const RETRY_DEFAULTS = { attempts: 1, delayMs: 1000 } as const;

/** Serialized results are capped so one chatty hook answer cannot bloat the runs table. */
const MAX_RESULT_CHARS = 4096;

export interface RunnerDeps {
  clock: Clock;
  ports: ActionPorts;
}

/**
 * Ends every try at once (the agent stopping): what was in flight is reported as abandoned. A set of
 * callbacks rather than an AbortSignal: a thousand runs in flight add and remove a listener per try,
 * which must stay O(1).
 */
export class StopSignal {
  #stopped = false;
  readonly #listeners = new Set<() => void>();
  get stopped(): boolean {
    return this.#stopped;
  }
  /** Calls `fn` when stop() is called; answers the unsubscribe. */
  onStop(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const fn of [...this.#listeners]) fn();
    this.#listeners.clear();
  }
}

/** Runs the actions of `task` for one run; resolves with the results, never rejects. */
export async function runActions(
  deps: RunnerDeps,
  task: TaskDefinition,
  slot: number,
  trigger: TaskTrigger,
  stop: StopSignal,
): Promise<TaskActionResult[]> {
  const results: TaskActionResult[] = [];
  for (let index = 0; index < task.actions.length; index++) {
    const action = task.actions[index] as TaskAction;
    results.push(await runOne(deps, task, action, index, slot, trigger, results, stop));
  }
  return results;
}

async function runOne(
  deps: RunnerDeps,
  task: TaskDefinition,
  action: TaskAction,
  index: number,
  slot: number,
  trigger: TaskTrigger,
  before: readonly TaskActionResult[],
  stop: StopSignal,
): Promise<TaskActionResult> {
  const { clock } = deps;
  const attempts = Math.max(1, Math.floor(action.retry?.attempts ?? RETRY_DEFAULTS.attempts));
  const delayMs = Math.max(0, action.retry?.delayMs ?? RETRY_DEFAULTS.delayMs);
  const timeoutMs = action.timeoutMs ?? task.timeoutMs ?? DEFAULTS.tasksDefaultTimeoutMs;
  const startedAt = clock.now();
  const t0 = clock.monotonic();
  const out: TaskActionResult = { index, type: action.type, ok: false, attempts: 0, startedAt, durationMs: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (stop.stopped) {
      out.error = out.error ?? "not run: the agent stopped";
      break;
    }
    out.attempts = attempt;
    try {
      const value = await withDeadline(clock, timeoutMs, stop, (signal) =>
        runAction(action, deps.ports, { task, slot, trigger, results: before, signal }),
      );
      out.ok = true;
      delete out.error;
      const r = capped(value);
      if (r !== undefined) out.result = r;
      else delete out.result;
      break;
    } catch (err) {
      out.error = errorMessage(err);
      const r = capped((err as { result?: unknown }).result);
      if (r !== undefined) out.result = r;
      else delete out.result;
      if (attempt < attempts) await pause(clock, delayMs, stop);
    }
  }
  out.durationMs = Math.round(clock.monotonic() - t0);
  return out;
}

/** Runs `fn` until it settles, `ms` pass on the clock, or `stop` aborts, whichever is first. */
function withDeadline<T>(
  clock: Clock,
  ms: number,
  stop: StopSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clock.clearTimeout(timer);
      off();
      return true;
    };
    const timer = clock.setTimeout(() => {
      if (!finish()) return;
      controller.abort();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
    const onStop = (): void => {
      if (!finish()) return;
      controller.abort();
      reject(new Error("abandoned: the agent stopped"));
    };
    const off = stop.onStop(onStop);
    let p: Promise<T>;
    try {
      p = fn(controller.signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => {
        if (finish()) resolve(v);
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
  });
}

function pause(clock: Clock, ms: number, stop: StopSignal): Promise<void> {
  if (ms <= 0 || stop.stopped) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = clock.setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = stop.onStop(() => {
      clock.clearTimeout(timer);
      resolve();
    });
  });
}

function capped(v: unknown): unknown {
  if (v === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    return String(v);
  }
  if (text === undefined) return undefined;
  if (text.length <= MAX_RESULT_CHARS) return JSON.parse(text) as unknown;
  return { truncated: true, preview: text.slice(0, MAX_RESULT_CHARS) };
}

/** ok: every action succeeded; failed: none did; partial: some did. A task with no actions is ok. */
export function runStatus(results: readonly TaskActionResult[]): TaskRun["status"] {
  const ok = results.filter((r) => r.ok).length;
  if (ok === results.length) return "ok";
  return ok === 0 ? "failed" : "partial";
}
