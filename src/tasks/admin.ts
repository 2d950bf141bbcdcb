// Task CRUD for the local API (docs/tasks.md, API): validated exactly like task files, written
// atomically into tasksDir and put in force at once, under the loader's lock, so the watcher never
// interleaves with a write and then finds the file's text already in force.
//
// Files hold the tasks as written (defaults are not written in); a task added without an id gets a
// platform-style one (24 hex digits) and its own file `<id>.json`. When the API rewrites a file,
// every task in it gets its id written in, so a derived id does not change when a neighbour goes.

import { mkdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Obj } from "../config/collector.js";
import { writeFileAtomic } from "../core/atomic-write.js";
import type { Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { AdminResult } from "../core/ports.js";
import type { TaskFileState, TasksLoader } from "./loader.js";
import { newTaskId } from "./normalize.js";
import type { TaskDefinition, TaskSet } from "./types.js";
import { hasErrors, parseTaskDocument, type TaskCheckContext, validateTaskObject } from "./validate.js";

/** A task in force: what the scheduler runs, what was written, where it lives, what is wrong with it. */
export interface TaskEntry {
  def: TaskDefinition;
  /** The task as written in its file, with its id. */
  doc: Obj;
  /** File name relative to tasksDir. */
  file: string;
  /** Warnings about this task, and errors of a newer version of its file that is not in force. */
  problems: Problem[];
}

export interface TaskFilesOptions {
  loader: TasksLoader;
  taskSet: TaskSet;
  log: Logger;
  context: () => Promise<TaskCheckContext>;
  /** Epoch ms for new ids and `created`/`updated` (default Date.now). */
  now?: () => number;
}

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function fail<T>(file: string, path: string, message: string, hint?: string): AdminResult<T> {
  return { ok: false, problems: [{ file, path, message, ...(hint ? { hint } : {}) }] };
}

function notFound<T>(id: string): AdminResult<T> {
  return { ok: false, notFound: true, problems: [{ file: "api", path: "$.id", message: `no task with id '${id}'` }] };
}

/** Problems that concern the task at `path` of its file ("$" or "$[i]"), or the whole file. */
function problemsAt(problems: readonly Problem[], path: string): Problem[] {
  return problems.filter(
    (p) => p.path === "$" || p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`),
  );
}

export class TaskFiles {
  readonly #loader: TasksLoader;
  readonly #set: TaskSet;
  readonly #log: Logger;
  readonly #context: () => Promise<TaskCheckContext>;
  readonly #now: () => number;

  constructor(opts: TaskFilesOptions) {
    this.#loader = opts.loader;
    this.#set = opts.taskSet;
    this.#log = opts.log;
    this.#context = opts.context;
    this.#now = opts.now ?? Date.now;
  }

  /** The tasks in force, by file name, then in file order. */
  entries(): TaskEntry[] {
    const out: TaskEntry[] = [];
    for (const t of this.#set.list()) {
      const e = this.get(t.def.id);
      if (e) out.push(e);
    }
    return out;
  }

  get(id: string): TaskEntry | undefined {
    const t = this.#set.get(id);
    if (!t) return undefined;
    const at = this.#loader.locate(id);
    if (!at) return { def: t.def, doc: { ...t.def }, file: t.file, problems: [] };
    const path = at.file.isArray ? `$[${at.index}]` : "$";
    return {
      def: t.def,
      doc: { id, ...(at.file.docs[at.index] as Obj) },
      file: t.file,
      problems: problemsAt(at.file.problems, path),
    };
  }

  /** Every current problem of the task files. */
  problems(): Problem[] {
    return this.#loader.problems();
  }

  add(body: unknown): Promise<AdminResult<TaskEntry>> {
    return this.#loader.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a task object");
      const now = this.#now();
      const doc: Obj = { id: body.id === undefined ? newTaskId(now) : body.id, ...body };
      doc.created ??= now;
      doc.updated ??= now;
      const name = `${typeof doc.id === "string" && doc.id !== "" ? doc.id : "task"}.json`;
      const path = join(this.#loader.dir, name);
      const ctx = await this.#context();
      const v = validateTaskObject(path, doc, ctx);
      if (v.task === null) return { ok: false, problems: v.problems };
      const id = v.task.id;
      const existing = this.#set.get(id);
      if (existing) return fail(path, "$.id", `task '${id}' already exists in ${existing.file}`, "use /task/update");
      if (await exists(path))
        return fail(path, "$.id", `file ${path} already exists`, "fix or remove that file, or choose another id");
      await mkdir(this.#loader.dir, { recursive: true });
      const written = await this.#write(name, [doc], false, ctx);
      if (!written.ok) return written;
      this.#log.info({ file: path, taskId: id }, "task added");
      return { ok: true, value: this.get(id) as TaskEntry };
    });
  }

  /** Updates the fields given (a field set to null is removed); the result is validated as a whole. */
  update(body: unknown): Promise<AdminResult<TaskEntry>> {
    return this.#loader.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a task object");
      const id = body.id;
      if (typeof id !== "string" || id === "") return fail("api", "$.id", "missing required key 'id'");
      const at = this.#loader.locate(id);
      if (!at) return notFound(id);
      const blocked = this.#blocked(at.file);
      if (blocked) return { ok: false, problems: blocked };
      const merged: Obj = { id, ...(at.file.docs[at.index] as Obj) };
      for (const [k, val] of Object.entries(body)) {
        if (val === null) delete merged[k];
        else merged[k] = val;
      }
      merged.updated = this.#now();
      const ctx = await this.#context();
      const v = validateTaskObject(at.file.path, merged, ctx);
      if (v.task === null) return { ok: false, problems: v.problems };
      const docs = this.#pinned(at.file).map((d, i) => (i === at.index ? merged : d));
      const written = await this.#write(at.file.name, docs, at.file.isArray, ctx);
      if (!written.ok) return written;
      this.#log.info({ file: at.file.path, taskId: id }, "task updated");
      return { ok: true, value: this.get(id) as TaskEntry };
    });
  }

  /** Answers with the task as it was before it was deleted. */
  del(id: string): Promise<AdminResult<TaskEntry>> {
    return this.#loader.exclusive(async () => {
      const at = this.#loader.locate(id);
      if (!at) return notFound(id);
      const blocked = this.#blocked(at.file);
      if (blocked) return { ok: false, problems: blocked };
      const gone = this.get(id) as TaskEntry;
      const rest = this.#pinned(at.file).filter((_, i) => i !== at.index);
      if (rest.length === 0) {
        await unlink(at.file.path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err;
        });
        this.#loader.forget(at.file.name);
      } else {
        const written = await this.#write(at.file.name, rest, at.file.isArray, await this.#context());
        if (!written.ok) return written;
      }
      this.#log.info({ file: at.file.path, taskId: id }, "task deleted");
      return { ok: true, value: gone };
    });
  }

  /** The file's tasks as written, each with its id written in. */
  #pinned(file: TaskFileState): Obj[] {
    return file.docs.map((d, i) => ({ id: file.tasks[i]?.def.id, ...d }));
  }

  /** A file whose current text is broken is not rewritten from its last good version behind the editor's back. */
  #blocked(file: TaskFileState): Problem[] | null {
    if (!hasErrors(file.problems)) return null;
    const first = file.problems.find((p) => p.severity !== "warning");
    return [
      {
        file: file.path,
        path: "$",
        message: `${file.path} has problems on disk (its last good version is in force); fix the file first`,
        ...(first ? { hint: first.message } : {}),
      },
    ];
  }

  /** Renders, checks as the loader would, writes and puts in force: what is in force is what the file says. */
  async #write(
    name: string,
    docs: readonly Obj[],
    asArray: boolean,
    ctx: TaskCheckContext,
  ): Promise<AdminResult<null>> {
    const text = `${JSON.stringify(asArray || docs.length !== 1 ? docs : docs[0], null, 2)}\n`;
    const path = join(this.#loader.dir, name);
    const parsed = parseTaskDocument(path, text, ctx);
    if (hasErrors(parsed.problems)) return { ok: false, problems: parsed.problems };
    await writeFileAtomic(path, text);
    const problems = await this.#loader.apply(name, text, ctx);
    if (hasErrors(problems)) return { ok: false, problems };
    return { ok: true, value: null };
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
