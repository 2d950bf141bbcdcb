// Rule CRUD for the local API (SPEC §10): validated exactly like rule files, written atomically
// into rulesDir (temp file, fsync, rename, fsync of the directory) and applied at once. Runs under
// the RuleSet's exclusive lock, so the watcher never interleaves with a write; it then sees the
// file's text equal to what is in force and leaves it alone.

import { randomBytes } from "node:crypto";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { AdminResult, RuleAdmin } from "../core/ports.js";
import type { RuleDefinition } from "../core/types.js";
import type { RuleSet } from "./rule-set.js";
import { hasErrors, validateRuleObject } from "./validate.js";

export interface RuleFilesOptions {
  dir: string;
  ruleSet: RuleSet;
  log: Logger;
}

function fail<T>(file: string, path: string, message: string, hint?: string): AdminResult<T> {
  return { ok: false, problems: [{ file, path, message, ...(hint ? { hint } : {}) }] };
}

function notFound<T>(file: string, id: string): AdminResult<T> {
  return { ok: false, notFound: true, problems: [{ file, path: "$.id", message: `no rule with id '${id}'` }] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Writes a file so that readers see the old or the new content, never a part, even across a power cut. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "w", 0o644);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(file));
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; not supported everywhere (Windows), where it is best effort.
  try {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Best effort.
  }
}

function render(defs: readonly RuleDefinition[], asArray: boolean): string {
  return `${JSON.stringify(asArray ? defs : defs[0], null, 2)}\n`;
}

export class RuleFiles implements RuleAdmin {
  readonly #dir: string;
  readonly #set: RuleSet;
  readonly #log: Logger;

  constructor(opts: RuleFilesOptions) {
    this.#dir = resolve(opts.dir);
    this.#set = opts.ruleSet;
    this.#log = opts.log;
  }

  list(): { rule: RuleDefinition; file: string }[] {
    return this.#set.rules().map((r) => ({ rule: r.def, file: r.file }));
  }

  get(id: string): { rule: RuleDefinition; file: string } | undefined {
    const r = this.#set.get(id);
    return r ? { rule: r.def, file: r.file } : undefined;
  }

  add(body: unknown): Promise<AdminResult<RuleDefinition>> {
    return this.#set.exclusive(async () => {
      const id = isObject(body) && typeof body.id === "string" ? body.id : "";
      const file = join(this.#dir, `${id || "rule"}.json`);
      const v = validateRuleObject(file, body);
      if (v.rule === null) return { ok: false, problems: v.problems };
      const rule = v.rule;
      const existing = this.#set.get(rule.id);
      if (existing)
        return fail(file, "$.id", `rule '${rule.id}' already exists in ${existing.file}`, "use /rule/update");
      if (await exists(file))
        return fail(file, "$.id", `file ${file} already exists`, "fix or remove that file, or choose another id");
      const text = render([rule], false);
      await mkdir(this.#dir, { recursive: true });
      await writeFileAtomic(file, text);
      const refused = this.#set.replaceFile(file, [rule], text, v.problems);
      if (refused.length > 0) return { ok: false, problems: refused };
      this.#log.info({ file, ruleId: rule.id }, "rule added");
      return { ok: true, value: rule };
    });
  }

  /** Updates the fields given (a field set to null is removed); the result is validated as a whole. */
  update(body: unknown): Promise<AdminResult<RuleDefinition>> {
    return this.#set.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a rule object");
      const id = body.id;
      if (typeof id !== "string" || id === "") return fail("api", "$.id", "missing required key 'id'");
      const current = this.#set.get(id);
      if (!current) return notFound("api", id);
      const file = current.file;
      const blocked = this.#blocked(file);
      if (blocked) return { ok: false, problems: blocked };
      const merged: Record<string, unknown> = { ...(current.def as unknown as Record<string, unknown>) };
      for (const [k, val] of Object.entries(body)) {
        if (val === null) delete merged[k];
        else merged[k] = val;
      }
      const v = validateRuleObject(file, merged);
      if (v.rule === null) return { ok: false, problems: v.problems };
      const defs = this.#set.fileRules(file).map((r) => (r.def.id === id ? (v.rule as RuleDefinition) : r.def));
      await this.#write(file, defs);
      this.#log.info({ file, ruleId: id }, "rule updated");
      return { ok: true, value: v.rule };
    });
  }

  del(id: string): Promise<AdminResult<{ id: string }>> {
    return this.#set.exclusive(async () => {
      const current = this.#set.get(id);
      if (!current) return notFound("api", id);
      const file = current.file;
      const blocked = this.#blocked(file);
      if (blocked) return { ok: false, problems: blocked };
      const rest = this.#set.fileRules(file).filter((r) => r.def.id !== id);
      if (rest.length === 0) {
        await unlink(file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err;
        });
        this.#set.removeFile(file);
      } else {
        await this.#write(
          file,
          rest.map((r) => r.def),
        );
      }
      this.#log.info({ file, ruleId: id }, "rule deleted");
      return { ok: true, value: { id } };
    });
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

  async #write(file: string, defs: readonly RuleDefinition[]): Promise<void> {
    const asArray = defs.length !== 1 || (this.#set.appliedSource(file)?.trimStart().startsWith("[") ?? false);
    const text = render(defs, asArray);
    await writeFileAtomic(file, text);
    this.#set.replaceFile(file, defs, text);
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
