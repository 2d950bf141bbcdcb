// Loads tasks/*.json into the TaskSet and keeps them in step with the directory (docs/tasks.md,
// Task files): fs.watch plus a periodic rescan (core/dir-watch.ts). A file that fails to parse or
// validate, or that names a task id another file has in force, is reported (log, /status, the API's
// `problems`) and its last good tasks stay in force. The local API's writes (admin.ts) go through
// the same lock and the same check, so the watcher then finds the file's text already in force.
// Never throws after start.

import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Obj } from "../config/collector.js";
import { oversizeProblem } from "../config/file-size.js";
import type { Clock } from "../core/clock.js";
import { type FileStamp, fileStamp, WatchedScans } from "../core/dir-watch.js";
import { errorMessage, formatProblem, type Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { LoadedTask, TaskSet } from "./types.js";
import { hasErrors, parseTaskDocument, type TaskCheckContext } from "./validate.js";

export const DEFAULT_MAX_TASK_FILE_BYTES = 1024 * 1024;

/** Task files: `*.json`, minus hidden files, editor leftovers and names starting with `_` (kept aside). */
export function isTaskFileName(name: string): boolean {
  return name.endsWith(".json") && !name.startsWith(".") && !name.startsWith("#") && !name.startsWith("_");
}

export async function listTaskFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(isTaskFileName).sort();
}

export interface TasksLoaderOptions {
  dir: string;
  taskSet: TaskSet;
  log: Logger;
  clock: Clock;
  /** What files are checked against (read once per scan that has something to check). */
  context: () => Promise<TaskCheckContext>;
  /** Safety-net rescan interval (default 1000). */
  rescanMs?: number;
  /** Larger files are refused unread (their last good tasks stay). */
  maxFileBytes?: number;
}

/** One task file as the loader knows it. */
export interface TaskFileState {
  /** Name relative to tasksDir. */
  name: string;
  /** Absolute path (problems name it). */
  path: string;
  /** The text of the version in force; undefined when none is. */
  applied: string | undefined;
  /** The tasks in force from this file, in file order, and the same as written. */
  tasks: LoadedTask[];
  docs: Obj[];
  /** Whether the version in force holds an array (rewrites keep the form). */
  isArray: boolean;
  /** The latest version's problems (errors when it is not in force), or the warnings of the one in force. */
  problems: Problem[];
}

interface Seen {
  signature: string;
  text: string;
}

export class TasksLoader {
  readonly #dir: string;
  readonly #set: TaskSet;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #context: () => Promise<TaskCheckContext>;
  readonly #maxFileBytes: number;
  readonly #scans: WatchedScans;
  readonly #files = new Map<string, TaskFileState>();
  readonly #seen = new Map<string, Seen>();
  #dirMissingLogged = false;

  constructor(opts: TasksLoaderOptions) {
    this.#dir = resolve(opts.dir);
    this.#set = opts.taskSet;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#context = opts.context;
    this.#maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_TASK_FILE_BYTES;
    this.#scans = new WatchedScans({
      dir: this.#dir,
      what: "tasks",
      clock: opts.clock,
      log: opts.log,
      periodMs: opts.rescanMs ?? 1000,
      scanOnce: () => this.#scanOnce(),
    });
  }

  get dir(): string {
    return this.#dir;
  }

  async start(): Promise<void> {
    if (this.#scans.running) return;
    await this.#scans.start();
    this.#log.info(
      { dir: this.#dir, tasks: this.#set.list().length, files: this.#files.size, problems: this.problems().length },
      "tasks loaded",
    );
  }

  stop(): Promise<void> {
    return this.#scans.stop();
  }

  /** Reads the directory now and applies what changed (tests, and after an edit that must show at once). */
  rescan(): Promise<void> {
    return this.#scans.rescan();
  }

  /** Runs `fn` alone against the watcher and other writers (the local API). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#scans.exclusive(fn);
  }

  /** Every current problem of the task files (also files with no task in force), by file name. */
  problems(): Problem[] {
    return [...this.#files.values()].flatMap((f) => f.problems);
  }

  file(name: string): TaskFileState | undefined {
    return this.#files.get(name);
  }

  /** The file that holds a task in force, and where in it. */
  locate(id: string): { file: TaskFileState; index: number } | undefined {
    const t = this.#set.get(id);
    if (!t) return undefined;
    const file = this.#files.get(t.file);
    if (!file) return undefined;
    const index = file.tasks.findIndex((x) => x.def.id === id);
    return index < 0 ? undefined : { file, index };
  }

  /**
   * Checks a file's text as the watcher would and, when it passes, puts it in force (the local API,
   * after writing it; call inside exclusive()). Returns the problems; errors mean nothing changed.
   */
  async apply(name: string, text: string, ctx?: TaskCheckContext): Promise<Problem[]> {
    const problems = this.#evaluate(name, text, ctx ?? (await this.#context()));
    this.#publish();
    return problems;
  }

  /** Forgets a file the local API deleted (call inside exclusive()). */
  forget(name: string): void {
    this.#files.delete(name);
    this.#seen.delete(join(this.#dir, name));
    this.#publish();
  }

  async #scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = await listTaskFiles(this.#dir);
      this.#dirMissingLogged = false;
    } catch (err) {
      if (!this.#dirMissingLogged) {
        this.#log.warn(
          { dir: this.#dir, err: errorMessage(err) },
          "cannot read the tasks directory; no task files loaded",
        );
        this.#dirMissingLogged = true;
      }
      names = [];
    }
    const present = new Set<string>();
    const texts = new Map<string, string>();
    let changed = false;
    for (const name of names) {
      const path = join(this.#dir, name);
      present.add(name);
      let stamp: FileStamp | null;
      try {
        stamp = await fileStamp(path, this.#clock.now());
      } catch {
        continue; // Deleted between readdir and stat: the next scan sees it gone.
      }
      if (stamp === null) continue;
      const { signature, size, recent } = stamp;
      const prev = this.#seen.get(path);
      if (prev !== undefined && prev.signature === signature && !recent) {
        if (size <= this.#maxFileBytes) texts.set(name, prev.text);
        continue;
      }
      if (size > this.#maxFileBytes) {
        const problem = oversizeProblem(path, size, this.#maxFileBytes, "task file", "split it into several files");
        const state = this.#state(name);
        if (prev?.signature !== signature) this.#report(state, [problem]);
        state.problems = [problem];
        this.#seen.set(path, { signature, text: "" });
        continue;
      }
      try {
        const text = await readFile(path, "utf8");
        this.#seen.set(path, { signature, text });
        texts.set(name, text);
      } catch (err) {
        this.#log.warn({ file: path, err: errorMessage(err) }, "cannot read task file; keeping its last good tasks");
        if (prev) texts.set(name, prev.text);
      }
    }
    for (const name of [...this.#files.keys()]) {
      if (present.has(name)) continue;
      const gone = this.#files.get(name) as TaskFileState;
      this.#files.delete(name);
      this.#seen.delete(gone.path);
      if (gone.tasks.length > 0) {
        this.#log.info(
          { file: gone.path, tasks: gone.tasks.length },
          "task file removed; its tasks are no longer in force",
        );
        changed = true;
      }
    }
    // A file is checked again while its text is not the one in force: edited, invalid, or refused
    // because another file held one of its ids (which may be free now).
    let ctx: TaskCheckContext | undefined;
    for (const [name, text] of texts) {
      const state = this.#files.get(name);
      if (state !== undefined && state.applied === text) continue;
      ctx ??= await this.#context();
      const before = state?.applied;
      this.#evaluate(name, text, ctx);
      if (this.#files.get(name)?.applied !== before) changed = true;
    }
    if (changed) this.#publish();
  }

  #state(name: string): TaskFileState {
    let s = this.#files.get(name);
    if (!s) {
      s = { name, path: join(this.#dir, name), applied: undefined, tasks: [], docs: [], isArray: false, problems: [] };
      this.#files.set(name, s);
    }
    return s;
  }

  /** Checks one file's text; puts it in force when it has no error. Returns its problems. */
  #evaluate(name: string, text: string, ctx: TaskCheckContext): Problem[] {
    const state = this.#state(name);
    const parsed = parseTaskDocument(state.path, text, ctx);
    let problems = parsed.problems;
    if (!hasErrors(problems)) {
      const conflicts = this.#conflicts(
        state,
        parsed.tasks.map((t) => t.id),
        text.trimStart().startsWith("["),
      );
      if (conflicts.length > 0) problems = [...problems, ...conflicts];
    }
    if (hasErrors(problems)) {
      if (!sameProblems(state.problems, problems)) this.#report(state, problems);
      state.problems = problems;
      return problems;
    }
    state.applied = text;
    state.isArray = text.trimStart().startsWith("[");
    state.tasks = parsed.tasks.map((def) => ({ def, file: name }));
    state.docs = parsed.docs;
    state.problems = problems;
    for (const w of problems) this.#log.warn({ file: state.path, path: w.path, reason: w.message }, formatProblem(w));
    this.#log.info({ file: state.path, tasks: state.tasks.map((t) => t.def.id) }, "task file applied");
    return problems;
  }

  /** A task id in force from another file refuses this version: both files are named. */
  #conflicts(state: TaskFileState, ids: readonly string[], asArray: boolean): Problem[] {
    const out: Problem[] = [];
    ids.forEach((id, i) => {
      for (const other of this.#files.values()) {
        if (other === state || !other.tasks.some((t) => t.def.id === id)) continue;
        out.push({
          file: state.path,
          path: asArray ? `$[${i}].id` : "$.id",
          message: `duplicate task id '${id}': already in force from ${other.path}`,
          hint: `task ids must be unique across all task files; rename one of them in ${state.path} or ${other.path}`,
        });
      }
    });
    return out;
  }

  #publish(): void {
    const all: LoadedTask[] = [];
    for (const name of [...this.#files.keys()].sort()) all.push(...(this.#files.get(name) as TaskFileState).tasks);
    this.#set.replace(all);
  }

  #report(state: TaskFileState, problems: readonly Problem[]): void {
    const inForce = state.tasks.length;
    for (const p of problems) {
      if (p.severity === "warning") continue;
      this.#log.error(
        { file: state.path, path: p.path, reason: p.message, line: p.line, column: p.column, hint: p.hint },
        `task file rejected: ${formatProblem(p)}${inForce > 0 ? ` (its last good version, ${inForce} task(s), stays in force)` : ""}`,
      );
    }
  }
}

function sameProblems(a: readonly Problem[], b: readonly Problem[]): boolean {
  return a.length === b.length && a.every((p, i) => p.path === b[i]?.path && p.message === b[i]?.message);
}
