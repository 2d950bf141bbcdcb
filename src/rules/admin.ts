// Rule CRUD for the local API (docs/http-api.md): validated exactly like rule files, written atomically
// into rulesDir (temp file, fsync, rename, fsync of the directory) and applied at once. Runs under
// the RuleSet's exclusive lock, so the watcher never interleaves with a write; it then sees the
// file's text equal to what is in force and leaves it alone.
//
// Files hold the rules as written (named levels and periods stay names); the API answers with the
// document as written plus its id. A rule added without an id gets a platform-style one (24 hex
// digits); when the API rewrites a file, every rule in it gets its id written in, so a derived id
// does not change when a neighbour is deleted or a name is edited.

import { mkdir, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import type { Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { AdminResult, CompiledRule, RuleAdmin, RuleEntry } from "../core/ports.js";
import { newRuleId } from "./normalize.js";
import type { RuleSet } from "./rule-set.js";
import { hasErrors, parseRuleDocument, validateRuleObject } from "./validate.js";

export interface RuleFilesOptions {
  dir: string;
  ruleSet: RuleSet;
  log: Logger;
  /** Epoch ms for new ids and `created`/`updated` (default Date.now). */
  now?: () => number;
}

type Obj = Record<string, unknown>;

function fail<T>(file: string, path: string, message: string, hint?: string): AdminResult<T> {
  return { ok: false, problems: [{ file, path, message, ...(hint ? { hint } : {}) }] };
}

function notFound<T>(file: string, id: string): AdminResult<T> {
  return { ok: false, notFound: true, problems: [{ file, path: "$.id", message: `no rule with id '${id}'` }] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function render(docs: readonly Obj[], asArray: boolean): string {
  return `${JSON.stringify(asArray ? docs : docs[0], null, 2)}\n`;
}

/** Problems that concern the rule at `path` of its file ("$" or "$[i]"), or the whole file. */
function problemsAt(problems: readonly Problem[], path: string): Problem[] {
  return problems.filter(
    (p) => p.path === "$" || p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`),
  );
}

interface FileDocs {
  source: string | undefined;
  byId: Map<string, { doc: Obj; path: string }>;
}

export class RuleFiles implements RuleAdmin {
  readonly #dir: string;
  readonly #set: RuleSet;
  readonly #log: Logger;
  readonly #now: () => number;
  /** The as-written documents of each file's rules in force, re-read when the applied text changes. */
  readonly #docs = new Map<string, FileDocs>();

  constructor(opts: RuleFilesOptions) {
    this.#dir = resolve(opts.dir);
    this.#set = opts.ruleSet;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
  }

  entries(): RuleEntry[] {
    return this.#set.rules().map((r) => this.#entry(r));
  }

  get(id: string): RuleEntry | undefined {
    const r = this.#set.get(id);
    return r ? this.#entry(r) : undefined;
  }

  add(body: unknown): Promise<AdminResult<RuleEntry>> {
    return this.#set.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a rule object");
      const now = this.#now();
      const doc: Obj = { id: body.id === undefined ? newRuleId(now) : body.id, ...body };
      doc.created ??= now;
      doc.updated ??= now;
      const file = join(this.#dir, `${typeof doc.id === "string" && doc.id !== "" ? doc.id : "rule"}.json`);
      const v = validateRuleObject(file, doc);
      if (v.rule === null) return { ok: false, problems: v.problems };
      const id = v.rule.id;
      const existing = this.#set.get(id);
      if (existing) return fail(file, "$.id", `rule '${id}' already exists in ${existing.file}`, "use /rule/update");
      if (await exists(file))
        return fail(file, "$.id", `file ${file} already exists`, "fix or remove that file, or choose another id");
      await mkdir(this.#dir, { recursive: true });
      const written = await this.#write(file, [doc], false);
      if (!written.ok) return written;
      this.#log.info({ file, ruleId: id }, "rule added");
      return { ok: true, value: this.#entryOf(file, id) };
    });
  }

  /**
   * Updates the fields given (a field set to null is removed; giving `period` drops `interval` and
   * the other way round); the result is validated as a whole.
   */
  update(body: unknown): Promise<AdminResult<RuleEntry>> {
    return this.#set.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a rule object");
      const id = body.id;
      if (typeof id !== "string" || id === "") return fail("api", "$.id", "missing required key 'id'");
      const current = this.#set.get(id);
      if (!current) return notFound("api", id);
      const file = current.file;
      const blocked = this.#blocked(file);
      if (blocked) return { ok: false, problems: blocked };
      const merged: Obj = { id, ...this.#pinned(current) };
      for (const [k, val] of Object.entries(body)) {
        if (val === null) delete merged[k];
        else merged[k] = val;
      }
      if (body.period !== undefined && body.interval === undefined) delete merged.interval;
      if (body.interval !== undefined && body.period === undefined) delete merged.period;
      merged.updated = this.#now();
      const v = validateRuleObject(file, merged);
      if (v.rule === null) return { ok: false, problems: v.problems };
      const docs = this.#set.fileRules(file).map((r) => (r.def.id === id ? merged : this.#pinned(r)));
      const written = await this.#write(file, docs, this.#isArray(file));
      if (!written.ok) return written;
      this.#log.info({ file, ruleId: id }, "rule updated");
      return { ok: true, value: this.#entryOf(file, id) };
    });
  }

  del(id: string): Promise<AdminResult<RuleEntry>> {
    return this.#set.exclusive(async () => {
      const current = this.#set.get(id);
      if (!current) return notFound("api", id);
      const file = current.file;
      const blocked = this.#blocked(file);
      if (blocked) return { ok: false, problems: blocked };
      const gone = this.#entry(current);
      const rest = this.#set.fileRules(file).filter((r) => r.def.id !== id);
      if (rest.length === 0) {
        await unlink(file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err;
        });
        this.#set.removeFile(file);
        this.#docs.delete(file);
      } else {
        const written = await this.#write(
          file,
          rest.map((r) => this.#pinned(r)),
          this.#isArray(file),
        );
        if (!written.ok) return written;
      }
      this.#log.info({ file, ruleId: id }, "rule deleted");
      return { ok: true, value: gone };
    });
  }

  #docsOf(file: string): FileDocs["byId"] {
    const source = this.#set.appliedSource(file);
    const cached = this.#docs.get(file);
    if (cached !== undefined && cached.source === source) return cached.byId;
    const byId: FileDocs["byId"] = new Map();
    if (source !== undefined) {
      const parsed = parseRuleDocument(file, source);
      const asArray = source.trimStart().startsWith("[");
      parsed.rules.forEach((r, i) => {
        byId.set(r.id, { doc: parsed.docs[i] as Obj, path: asArray ? `$[${i}]` : "$" });
      });
    }
    this.#docs.set(file, { source, byId });
    return byId;
  }

  #entry(r: CompiledRule): RuleEntry {
    const d = this.#docsOf(r.file).get(r.def.id);
    // Without the text it came from (rules put in force by code), the definition is the document.
    const doc: Obj = d ? { id: r.def.id, ...d.doc } : { ...(r.def as unknown as Obj) };
    return { def: r.def, doc, file: r.file, problems: problemsAt(this.#set.fileProblems(r.file), d?.path ?? "$") };
  }

  #entryOf(file: string, id: string): RuleEntry {
    const r = this.#set.fileRules(file).find((x) => x.def.id === id) as CompiledRule;
    return this.#entry(r);
  }

  /** The rule's document as written, with its id written in. */
  #pinned(r: CompiledRule): Obj {
    const d = this.#docsOf(r.file).get(r.def.id);
    return d ? { id: r.def.id, ...d.doc } : { ...(r.def as unknown as Obj) };
  }

  #isArray(file: string): boolean {
    return this.#set.appliedSource(file)?.trimStart().startsWith("[") ?? false;
  }

  /** A file whose current text is broken is not rewritten from its last good version behind the editor's back. */
  #blocked(file: string): Problem[] | null {
    const problems = this.#set.fileProblems(file);
    if (!hasErrors(problems)) return null;
    return [
      {
        file,
        path: "$",
        message: `${file} has problems on disk (its last good version is in force); fix the file first`,
        hint: problems[0] ? problems[0].message : undefined,
      } as Problem,
    ];
  }

  /** Renders, re-reads as the loader would, writes and puts in force: what is in force is what the file says. */
  async #write(file: string, docs: readonly Obj[], asArray: boolean): Promise<AdminResult<null>> {
    const text = render(docs, asArray || docs.length !== 1);
    const parsed = parseRuleDocument(file, text);
    if (hasErrors(parsed.problems)) return { ok: false, problems: parsed.problems };
    await writeFileAtomic(file, text);
    const refused = this.#set.replaceFile(file, parsed.rules, text, parsed.problems);
    if (refused.length > 0) return { ok: false, problems: refused };
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
