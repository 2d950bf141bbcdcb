// Runs the tasks in force at their slots (docs/tasks.md, Missed slots and clock changes). Driven only
// by the injected clock: now() says which slots are due, one timer wakes the scheduler at the next
// slot (never more than MAX_WAIT_MS away, so a clock stepped by NTP or by hand is noticed). The last
// slot each task ran for is kept in SQLite, so a slot is never run twice: not when the clock steps
// back, not after a restart. The starts of one wake-up are recorded in one transaction, and the ends
// of runs that finish together in another, so a thousand tasks due in one second start within it.
// Runs of one task may overlap: a run still going when the next slot comes never delays it.

import type { Clock, TimerHandle } from "../core/clock.js";
import { errFields } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { RunEnd, RunStart, TaskRunRow, TasksRepo } from "../store/tasks-repo.js";
import type { ActionPorts } from "./actions.js";
import { runActions, runStatus, StopSignal } from "./runner.js";
import { type CompiledSchedule, compileSchedule } from "./schedule.js";
import type { LoadedTask, TaskDefinition, TaskRun, TaskRuntime, TaskSet, TaskTrigger } from "./types.js";

/** Longest timer wait: a clock step is noticed within this. */
export const MAX_WAIT_MS = 30_000;
/** Slots of one task run one by one after a forward jump up to this many; beyond it only the latest runs. */
export const MAX_CATCH_UP = 10;
/** How often finished runs past the retention are purged. */
const PURGE_EVERY_MS = 3_600_000;
/** Ends of runs wait at most this long to be written, in one transaction (or with the next starts). */
const END_FLUSH_MS = 500;
/** Runs started in one go before the event loop gets a turn (readings keep flowing meanwhile). */
const START_CHUNK = 100;

export interface TaskSchedulerOptions {
  tasks: TaskSet;
  repo: TasksRepo;
  clock: Clock;
  log: Logger;
  events?: EventBus | undefined;
  ports: ActionPorts;
  /** Time zone of a task that names none (the agent's `timezone`). */
  timezone: string;
  /** Runs kept per task (default 100). */
  runsPerTask?: number;
  /** Days a finished run is kept (default 30). */
  runRetentionDays?: number;
}

interface Entry {
  task: LoadedTask;
  /** The definition as JSON: a change re-plans the task. */
  key: string;
  schedule: CompiledSchedule | null;
  /** The next slot to run, null when disabled or none is left. */
  next: number | null;
}

interface Due {
  def: TaskDefinition;
  slot: number;
  trigger: TaskTrigger;
}

export class TaskScheduler implements TaskRuntime {
  readonly #o: TaskSchedulerOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  /** Tasks planned since start: a missed slot is run only when a task is first seen. */
  readonly #seen = new Set<string>();
  #lastSlots = new Map<string, number>();
  readonly #inflight = new Set<Promise<void>>();
  #ends: RunEnd[] = [];
  #endTimer: TimerHandle | undefined;
  #timer: TimerHandle | undefined;
  #off: (() => void) | null = null;
  #stop = new StopSignal();
  #running = false;
  #lastPurge = Number.NEGATIVE_INFINITY;

  constructor(opts: TaskSchedulerOptions) {
    this.#o = opts;
    this.#log = opts.log;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stop = new StopSignal();
    const { repo, clock } = this.#o;
    const abandoned = repo.closeAbandoned(clock.now());
    if (abandoned > 0) this.#log.warn({ runs: abandoned }, "task runs cut short by the last stop recorded as failed");
    this.#lastSlots = repo.lastSlots();
    this.#purge();
    this.#off = this.#o.tasks.onChange(() => this.#sync());
    this.#sync();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#off?.();
    this.#off = null;
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    // Runs in progress end now: the action in flight is abandoned and reported so, the rest not run.
    this.#stop.stop();
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.#flushEnds();
  }

  // ---- TaskRuntime ---------------------------------------------------------------------------

  runs(taskId: string, limit: number): TaskRun[] {
    this.#flushEnds();
    return this.#o.repo.runs(taskId, limit).map(toTaskRun);
  }

  nextRun(taskId: string): number | null {
    return this.#entries.get(taskId)?.next ?? null;
  }

  async runNow(taskId: string): Promise<TaskRun | undefined> {
    const task = this.#o.tasks.get(taskId);
    if (task === undefined) return undefined;
    const [run] = this.#fire([{ def: task.def, slot: this.#o.clock.now(), trigger: "manual" }]);
    return run === undefined ? undefined : { ...run, actions: [] };
  }

  // ---- planning ------------------------------------------------------------------------------

  /** Brings the plan in line with the tasks in force; runs a missed slot of a task seen for the first time. */
  #sync(): void {
    if (!this.#running) return;
    const now = this.#o.clock.now();
    const current = new Map(this.#o.tasks.list().map((t) => [t.def.id, t]));
    for (const id of [...this.#entries.keys()]) {
      if (current.has(id)) continue;
      this.#entries.delete(id);
      this.#lastSlots.delete(id);
      this.#seen.delete(id);
      try {
        this.#o.repo.forget(id);
      } catch (err) {
        this.#log.error({ ...errFields(err, "EA_DB"), taskId: id }, "cannot forget the last slot of a deleted task");
      }
      this.#log.info({ taskId: id }, `task ${id} removed: no further runs (a run in progress completes)`);
    }
    const due: Due[] = [];
    for (const [id, task] of current) {
      const key = JSON.stringify(task.def);
      const old = this.#entries.get(id);
      if (old !== undefined && old.key === key) {
        old.task = task;
        continue;
      }
      const entry = this.#plan(task, key, now, old);
      this.#entries.set(id, entry);
      const first = !this.#seen.has(id);
      this.#seen.add(id);
      const last = this.#lastSlots.get(id);
      if (first && last !== undefined && entry.schedule !== null && task.def.misfire === "once") {
        const missed = entry.schedule.previous(now);
        if (missed !== null && missed > last) {
          this.#log.info(
            { taskId: id, name: task.def.name, slot: missed },
            `task ${task.def.name}: running the slot missed while the agent was down`,
          );
          due.push({ def: task.def, slot: missed, trigger: "misfire" });
        }
      }
    }
    this.#fire(due);
    this.#arm();
  }

  #plan(task: LoadedTask, key: string, now: number, old: Entry | undefined): Entry {
    const def = task.def;
    let schedule: CompiledSchedule | null = null;
    try {
      schedule = compileSchedule(def.schedule, def.timezone ?? this.#o.timezone);
    } catch (err) {
      this.#log.error(
        { taskId: def.id, file: task.file, err },
        `task ${def.name}: not scheduled: ${(err as Error).message}`,
      );
    }
    const last = this.#lastSlots.get(def.id) ?? Number.NEGATIVE_INFINITY;
    // A new, changed or re-enabled task starts from now: the slots before are not owed.
    const next = schedule !== null && def.isEnable ? schedule.next(Math.max(now, last)) : null;
    if (old === undefined || old.next !== next) {
      this.#log.debug({ taskId: def.id, next, schedule: schedule?.text }, `task ${def.name} planned`);
    }
    return { task, key, schedule, next };
  }

  #arm(): void {
    const { clock } = this.#o;
    clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const e of this.#entries.values()) if (e.next !== null && e.next < soonest) soonest = e.next;
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, soonest - clock.now()));
    this.#timer = clock.setTimeout(() => this.#wake(), wait);
  }

  #wake(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#o.clock.now();
    const due: Due[] = [];
    for (const e of this.#entries.values()) {
      if (e.next === null || e.next > now || e.schedule === null) continue;
      const def = e.task.def;
      const last = this.#lastSlots.get(def.id) ?? Number.NEGATIVE_INFINITY;
      let slots: number[] = [];
      let s: number | null = e.next;
      while (s !== null && s <= now && slots.length <= MAX_CATCH_UP) {
        if (s > last) slots.push(s);
        s = e.schedule.next(s);
      }
      if (slots.length > MAX_CATCH_UP) {
        const latest = e.schedule.previous(now) as number;
        this.#log.warn(
          { taskId: def.id, name: def.name, from: slots[0], to: latest },
          `task ${def.name}: more than ${MAX_CATCH_UP} slots fell due at once (the clock jumped forward or the agent stalled); only the latest runs`,
        );
        slots = latest > last ? [latest] : [];
        s = e.schedule.next(now);
      }
      for (const slot of slots) due.push({ def, slot, trigger: "schedule" });
      e.next = s;
    }
    this.#fire(due);
    this.#purge();
    this.#arm();
  }

  // ---- runs ----------------------------------------------------------------------------------

  /** Records the starts in one transaction, then runs them; answers the runs as started. */
  #fire(due: readonly Due[]): TaskRun[] {
    if (due.length === 0) return [];
    const started = this.#o.clock.now();
    const starts: RunStart[] = due.map((d) => ({
      taskId: d.def.id,
      slot: d.slot,
      trigger: d.trigger,
      started,
      advances: d.trigger !== "manual",
    }));
    // The ends waiting to be written share this commit: one fsync per wake-up, not two.
    const ends = this.#takeEnds();
    let ids: number[];
    try {
      ids = this.#o.repo.start(starts, ends);
    } catch (err) {
      // The actions matter more than their record: they run, unrecorded (id 0), and the log says so.
      this.#log.error({ ...errFields(err, "EA_DB"), runs: due.length }, "cannot record task runs; they run unrecorded");
      ids = due.map(() => 0);
      this.#writeEnds(ends);
    }
    const runs: TaskRun[] = [];
    for (let i = 0; i < due.length; i++) {
      const d = due[i] as Due;
      if (d.trigger !== "manual") {
        const last = this.#lastSlots.get(d.def.id);
        if (last === undefined || d.slot > last) this.#lastSlots.set(d.def.id, d.slot);
      }
      const run: TaskRun = {
        id: ids[i] ?? 0,
        taskId: d.def.id,
        slot: d.slot,
        trigger: d.trigger,
        started,
        ended: null,
        status: "running",
        actions: [],
      };
      runs.push(run);
      this.#o.events?.emit("taskRun", run, { id: d.def.id, name: d.def.name });
    }
    this.#startRuns(runs, due);
    return runs;
  }

  /** Starts the runs START_CHUNK at a time, with a turn of the event loop between chunks. */
  #startRuns(runs: readonly TaskRun[], due: readonly Due[]): void {
    let i = 0;
    const batch = new Promise<void>((resolve) => {
      const step = (): void => {
        const end = Math.min(i + START_CHUNK, runs.length);
        for (; i < end; i++) this.#track(this.#execute(runs[i] as TaskRun, (due[i] as Due).def));
        if (i < runs.length) setImmediate(step);
        else resolve();
      };
      step();
    });
    this.#track(batch);
  }

  #track(p: Promise<void>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  async #execute(run: TaskRun, def: TaskDefinition): Promise<void> {
    const { clock } = this.#o;
    const t0 = clock.monotonic();
    let results: TaskRun["actions"];
    try {
      results = await runActions({ clock, ports: this.#o.ports }, def, run.slot, run.trigger, this.#stop);
    } catch (err) {
      // runActions reports every failure in its results; this is a bug guard, not a path.
      this.#log.error({ err, taskId: def.id }, `task ${def.name}: run failed unexpectedly`);
      results = [];
    }
    const ended: TaskRun = { ...run, ended: clock.now(), status: runStatus(results), actions: results };
    if (ended.id > 0)
      this.#queueEnd({ id: ended.id, ended: ended.ended as number, status: ended.status, actions: results });
    const fields = {
      taskId: def.id,
      name: def.name,
      runId: ended.id,
      slot: ended.slot,
      trigger: ended.trigger,
      status: ended.status,
      durationMs: Math.round(clock.monotonic() - t0),
    };
    if (ended.status === "ok") this.#log.info(fields, `task ${def.name} ran: ok`);
    else {
      const failures = results.filter((r) => !r.ok).map((r) => `#${r.index} ${r.type}: ${r.error ?? "failed"}`);
      this.#log.warn({ ...fields, failures }, `task ${def.name} ran: ${ended.status} (${failures.join("; ")})`);
    }
    this.#o.events?.emit("taskRun", ended, { id: def.id, name: def.name });
  }

  /**
   * Ends of runs are written together: with the next wake-up's starts, or END_FLUSH_MS after the
   * first of them, or when someone reads the runs.
   */
  #queueEnd(end: RunEnd): void {
    this.#ends.push(end);
    if (this.#endTimer !== undefined) return;
    this.#endTimer = this.#o.clock.setTimeout(() => {
      this.#endTimer = undefined;
      this.#flushEnds();
    }, END_FLUSH_MS);
  }

  #takeEnds(): RunEnd[] {
    this.#o.clock.clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    const ends = this.#ends;
    this.#ends = [];
    return ends;
  }

  #flushEnds(): void {
    this.#writeEnds(this.#takeEnds());
  }

  #writeEnds(ends: readonly RunEnd[]): void {
    if (ends.length === 0) return;
    try {
      this.#o.repo.end(ends);
    } catch (err) {
      this.#log.error({ ...errFields(err, "EA_DB"), runs: ends.length }, "cannot record the end of task runs");
    }
  }

  #purge(): void {
    const { clock, repo } = this.#o;
    const mono = clock.monotonic();
    if (mono - this.#lastPurge < PURGE_EVERY_MS) return;
    this.#lastPurge = mono;
    this.#flushEnds();
    const days = this.#o.runRetentionDays ?? 30;
    try {
      const n = repo.purge(this.#o.runsPerTask ?? 100, clock.now() - days * 86_400_000);
      if (n > 0) this.#log.debug({ runs: n }, "old task runs purged");
    } catch (err) {
      this.#log.error({ ...errFields(err, "EA_DB") }, "cannot purge old task runs");
    }
  }
}

function toTaskRun(r: TaskRunRow): TaskRun {
  return {
    id: r.id,
    taskId: r.taskId,
    slot: r.slot,
    trigger: r.trigger as TaskTrigger,
    started: r.started,
    ended: r.ended,
    status: r.status as TaskRun["status"],
    actions: r.actions as TaskRun["actions"],
  };
}
