// The tasks' tables (docs/tasks.md, Runs): task_state holds the last slot each task ran for (a slot
// at or before it is never run again, whatever the clock does), task_runs one row per run, written
// when it starts and updated when it ends. Writes come in batches, one transaction each: a thousand
// tasks due in the same second cost one commit, not a thousand.

import type { Db } from "./db.js";

/** What task_runs stores of a run (the task model's TaskRun, without importing the tasks folder). */
export interface TaskRunRow {
  id: number;
  taskId: string;
  slot: number;
  trigger: string;
  started: number;
  ended: number | null;
  status: string;
  actions: unknown[];
}

export interface RunStart {
  taskId: string;
  slot: number;
  trigger: string;
  started: number;
  /** Whether this run moves the task's last slot (scheduled and missed-slot runs; not manual ones). */
  advances: boolean;
}

export interface RunEnd {
  id: number;
  ended: number;
  status: string;
  actions: unknown[];
}

interface RawRun {
  id: number;
  task_id: string;
  slot: number;
  trigger: string;
  started: number;
  ended: number | null;
  status: string;
  actions: string;
}

export class TasksRepo {
  readonly #db: Db;
  readonly #lastSlots;
  readonly #setSlot;
  readonly #forget;
  readonly #insertRun;
  readonly #endRun;
  readonly #runs;
  readonly #runById;
  readonly #purgeOld;
  readonly #purgeExcess;
  readonly #abandon;

  constructor(db: Db) {
    this.#db = db;
    this.#lastSlots = db.prepare<[], { task_id: string; last_slot: number }>(
      "SELECT task_id, last_slot FROM task_state",
    );
    // Never moves back: a run for an older slot (a clock stepped back) cannot lower it.
    this.#setSlot = db.prepare<[string, number, number]>(
      `INSERT INTO task_state (task_id, last_slot, updated) VALUES (?, ?, ?)
       ON CONFLICT(task_id) DO UPDATE SET last_slot = MAX(last_slot, excluded.last_slot), updated = excluded.updated`,
    );
    this.#forget = db.prepare<[string]>("DELETE FROM task_state WHERE task_id = ?");
    this.#insertRun = db.prepare<[string, number, string, number]>(
      "INSERT INTO task_runs (task_id, slot, trigger, started, ended, status, actions) VALUES (?, ?, ?, ?, NULL, 'running', '[]')",
    );
    this.#endRun = db.prepare<[number, string, string, number]>(
      "UPDATE task_runs SET ended = ?, status = ?, actions = ? WHERE id = ?",
    );
    this.#runs = db.prepare<[string, number], RawRun>(
      "SELECT * FROM task_runs WHERE task_id = ? ORDER BY id DESC LIMIT ?",
    );
    this.#runById = db.prepare<[number], RawRun>("SELECT * FROM task_runs WHERE id = ?");
    this.#purgeOld = db.prepare<[number]>("DELETE FROM task_runs WHERE started < ? AND ended IS NOT NULL");
    this.#purgeExcess = db.prepare<[number]>(
      `DELETE FROM task_runs WHERE id IN (
         SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY id DESC) AS n FROM task_runs)
         WHERE n > ?)`,
    );
    this.#abandon = db.prepare<[number]>("UPDATE task_runs SET ended = ?, status = 'failed' WHERE ended IS NULL");
  }

  /** The last slot of every task that ever ran on schedule. */
  lastSlots(): Map<string, number> {
    return new Map(this.#lastSlots.all().map((r) => [r.task_id, r.last_slot]));
  }

  /**
   * Records the starts of one wake-up in one transaction, with the ends of earlier runs not written
   * yet (one commit for both); answers the run ids in order.
   */
  start(runs: readonly RunStart[], ends: readonly RunEnd[] = []): number[] {
    return this.#db.transaction((list: readonly RunStart[]) => {
      for (const r of ends) this.#endRun.run(r.ended, r.status, JSON.stringify(r.actions), r.id);
      const ids: number[] = [];
      for (const r of list) {
        if (r.advances) this.#setSlot.run(r.taskId, r.slot, r.started);
        ids.push(Number(this.#insertRun.run(r.taskId, r.slot, r.trigger, r.started).lastInsertRowid));
      }
      return ids;
    })(runs);
  }

  /** Records the ends of runs, in one transaction. */
  end(runs: readonly RunEnd[]): void {
    if (runs.length === 0) return;
    this.#db.transaction((list: readonly RunEnd[]) => {
      for (const r of list) this.#endRun.run(r.ended, r.status, JSON.stringify(r.actions), r.id);
    })(runs);
  }

  /** Forgets a task's last slot (the task was deleted: if it comes back, it starts afresh). */
  forget(taskId: string): void {
    this.#forget.run(taskId);
  }

  /** The task's runs, newest first. */
  runs(taskId: string, limit: number): TaskRunRow[] {
    return this.#runs.all(taskId, Math.max(0, Math.floor(limit))).map(toRow);
  }

  run(id: number): TaskRunRow | undefined {
    const r = this.#runById.get(id);
    return r === undefined ? undefined : toRow(r);
  }

  /**
   * Keeps at most `perTask` runs of each task and none that ended before `before`; answers how many
   * rows went.
   */
  purge(perTask: number, before: number): number {
    return this.#db.transaction(() => {
      let n = this.#purgeOld.run(before).changes;
      n += this.#purgeExcess.run(Math.max(1, Math.floor(perTask))).changes;
      return n;
    })();
  }

  /** Runs still marked running from a previous process (it stopped mid-run): ended as failed. */
  closeAbandoned(now: number): number {
    return this.#abandon.run(now).changes;
  }
}

function toRow(r: RawRun): TaskRunRow {
  let actions: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(r.actions);
    if (Array.isArray(parsed)) actions = parsed;
  } catch {
    // A row written by hand or cut short: shown with no action results rather than failing the list.
  }
  return {
    id: r.id,
    taskId: r.task_id,
    slot: r.slot,
    trigger: r.trigger,
    started: r.started,
    ended: r.ended,
    status: r.status,
    actions,
  };
}
