// Recipient group CRUD for the local API (docs/http-api.md, Recipients): validated exactly like the
// file, written atomically and put in force at once, under the loader's lock. The file keeps what
// was written: `${VAR}` references stay references, members are written as user ids (a member sent
// as an object whose id is not a user yet, with contacts, is added to `users`). Answers show groups
// in the platform's shape with members expanded to user objects and robot keys masked; a masked key
// sent back unchanged keeps the key it stands for.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { isObject, type Obj } from "../config/collector.js";
import { writeFileAtomic } from "../core/atomic-write.js";
import type { Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { objectId } from "../core/object-id.js";
import type { AdminResult } from "../core/ports.js";
import { hasErrors, maskSecret, type RecipientDirectory, USER_KEYS } from "./recipients.js";
import type { RecipientsLoader } from "./recipients-loader.js";
import type { RecipientGroup, RecipientUser } from "./types.js";

/** A group in force, what was written for it, and where it stands in the file. */
export interface RecipientEntry {
  group: RecipientGroup;
  /** The group as written in the file (references unsubstituted). */
  doc: Obj;
  index: number;
  /** Warnings about this group (its path in the file). */
  problems: Problem[];
}

/** A member as the API answers it: the platform's id, realname, username, with the contacts beside. */
export type RecipientUserShape = RecipientUser;

export interface RecipientShape {
  id: string;
  name: string;
  description?: string;
  delay: number;
  principals: RecipientUserShape[];
  users: RecipientUserShape[];
  /** Masked: all but the last 4 characters hidden (a `${VAR}` reference shown as written). */
  robots?: string[];
  created?: number;
  updated?: number;
  ownerId?: string;
  problems: Problem[];
  [extra: string]: unknown;
}

export const RECIPIENT_SORT_FIELDS = ["name", "delay", "created", "updated"] as const;
export type RecipientSortField = (typeof RECIPIENT_SORT_FIELDS)[number];
export const DEFAULT_RECIPIENT_LIMIT = 100;
export const MAX_RECIPIENT_LIMIT = 1000;

export interface RecipientListQuery {
  offset: number;
  limit: number;
  order: "asc" | "desc";
  orderBy?: RecipientSortField | undefined;
  q?: string | undefined;
}

export interface RecipientList {
  total: number;
  offset: number;
  limit: number;
  recipients: RecipientShape[];
  /** Every current problem of the recipients file. */
  problems: Problem[];
}

/** Fields the agent adds to its answers, dropped from a body sent back. */
const AGENT_FIELDS = ["problems"] as const;
const MASKED = /^\*{4}.{0,4}$/;

function userShape(u: RecipientUser): RecipientUserShape {
  return { ...u };
}

export function recipientShape(e: RecipientEntry): RecipientShape {
  const { group, doc } = e;
  const out: RecipientShape = {
    ...group,
    id: group.id,
    name: group.name,
    delay: group.delay,
    principals: group.principals.map(userShape),
    users: group.users.map(userShape),
    problems: e.problems,
  };
  if (Array.isArray(doc.robots))
    out.robots = doc.robots.filter((r): r is string => typeof r === "string").map(maskSecret);
  else delete out.robots;
  return out;
}

/** Filter (`q` in id, name, description and members' names), sort, page. */
export function listRecipients(
  entries: readonly RecipientEntry[],
  q: RecipientListQuery,
  problems: Problem[],
): RecipientList {
  let rows = [...entries];
  if (q.q) {
    const needle = q.q.toLowerCase();
    rows = rows.filter((e) => {
      const g = e.group;
      const people = [...g.users, ...g.principals].flatMap((u) => [u.id, u.realname ?? "", u.username ?? ""]);
      return [g.id, g.name, g.description ?? "", ...people].some((s) => s.toLowerCase().includes(needle));
    });
  }
  const by = q.orderBy;
  if (by) {
    const key = (e: RecipientEntry): string | number => {
      const v = e.group[by];
      return typeof v === "number" || typeof v === "string" ? v : by === "name" ? "" : 0;
    };
    rows.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = typeof x === "string" && typeof y === "string" ? x.localeCompare(y) : Number(x) - Number(y);
      return c !== 0 ? c : a.index - b.index;
    });
  }
  if (q.order === "desc") rows.reverse();
  return {
    total: rows.length,
    offset: q.offset,
    limit: q.limit,
    recipients: rows.slice(q.offset, q.offset + q.limit).map(recipientShape),
    problems,
  };
}

export interface RecipientFilesOptions {
  loader: RecipientsLoader;
  log: Logger;
  /** Epoch ms for new ids and `created`/`updated` (default Date.now). */
  now?: () => number;
}

function fail<T>(file: string, path: string, message: string, hint?: string): AdminResult<T> {
  return { ok: false, problems: [{ file, path, message, ...(hint ? { hint } : {}) }] };
}

function notFound<T>(id: string): AdminResult<T> {
  return {
    ok: false,
    notFound: true,
    problems: [{ file: "api", path: "$.id", message: `no recipient with id '${id}'` }],
  };
}

/** Problems at `$.recipients[i]…` as paths of the API body (`$…`), then the rest. */
function rebase(problems: readonly Problem[], index: number): Problem[] {
  const prefix = `$.recipients[${index}]`;
  const own: Problem[] = [];
  const rest: Problem[] = [];
  for (const p of problems) {
    if (p.path === prefix || p.path.startsWith(`${prefix}.`) || p.path.startsWith(`${prefix}[`))
      own.push({ ...p, path: `$${p.path.slice(prefix.length)}` });
    else rest.push(p);
  }
  return [...own, ...rest];
}

export class RecipientFiles {
  readonly #loader: RecipientsLoader;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(opts: RecipientFilesOptions) {
    this.#loader = opts.loader;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
  }

  get directory(): RecipientDirectory {
    return this.#loader;
  }

  get file(): string {
    return this.#loader.file;
  }

  entries(): RecipientEntry[] {
    const raw = this.#loader.raw();
    const docs = raw && Array.isArray(raw.recipients) ? raw.recipients : [];
    const problems = this.#loader.problems();
    return this.#loader.list().map((group, index) => {
      const doc = docs[index];
      const prefix = `$.recipients[${index}]`;
      return {
        group,
        doc: isObject(doc) ? doc : {},
        index,
        problems: problems.filter((p) => p.path === prefix || p.path.startsWith(`${prefix}.`)),
      };
    });
  }

  get(id: string): RecipientEntry | undefined {
    return this.entries().find((e) => e.group.id === id);
  }

  problems(): Problem[] {
    return this.#loader.problems();
  }

  add(body: unknown): Promise<AdminResult<RecipientEntry>> {
    return this.#loader.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a recipient group object");
      const blocked = this.#blocked();
      if (blocked) return { ok: false, problems: blocked };
      const now = this.#now();
      const doc = this.#document();
      const group: Obj = { id: body.id === undefined ? objectId(now) : body.id, ...withoutAgentFields(body) };
      if (typeof group.id === "string" && this.#loader.get(group.id))
        return fail("api", "$.id", `recipient '${group.id}' already exists`, "use /recipient/update");
      group.created ??= now;
      group.updated ??= now;
      const prepared = this.#prepare(doc, group);
      if (!prepared.ok) return prepared;
      const groups = doc.recipients as unknown[];
      groups.push(group);
      const written = await this.#write(doc, groups.length - 1);
      if (!written.ok) return written;
      this.#log.info({ file: this.file, recipientId: group.id }, "recipient group added");
      return { ok: true, value: this.get(group.id as string) as RecipientEntry };
    });
  }

  /** Updates the fields given (a field set to null is removed); the result is validated as a whole. */
  update(body: unknown): Promise<AdminResult<RecipientEntry>> {
    return this.#loader.exclusive(async () => {
      if (!isObject(body)) return fail("api", "$", "expected a recipient group object");
      const id = body.id;
      if (typeof id !== "string" || id === "") return fail("api", "$.id", "missing required key 'id'");
      const at = this.get(id);
      if (!at) return notFound(id);
      const blocked = this.#blocked();
      if (blocked) return { ok: false, problems: blocked };
      const doc = this.#document();
      const groups = doc.recipients as unknown[];
      const merged: Obj = { ...(groups[at.index] as Obj) };
      for (const [k, v] of Object.entries(withoutAgentFields(body))) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      merged.id = id;
      merged.updated = this.#now();
      const prepared = this.#prepare(doc, merged);
      if (!prepared.ok) return prepared;
      groups[at.index] = merged;
      const written = await this.#write(doc, at.index);
      if (!written.ok) return written;
      this.#log.info({ file: this.file, recipientId: id }, "recipient group updated");
      return { ok: true, value: this.get(id) as RecipientEntry };
    });
  }

  /** Answers with the group as it was before it was deleted. */
  del(id: string): Promise<AdminResult<RecipientEntry>> {
    return this.#loader.exclusive(async () => {
      const at = this.get(id);
      if (!at) return notFound(id);
      const blocked = this.#blocked();
      if (blocked) return { ok: false, problems: blocked };
      const doc = this.#document();
      (doc.recipients as unknown[]).splice(at.index, 1);
      const written = await this.#write(doc, null);
      if (!written.ok) return written;
      this.#log.info({ file: this.file, recipientId: id }, "recipient group deleted");
      return { ok: true, value: at };
    });
  }

  /** The document in force as written, with `users` and `recipients` arrays (an absent file is empty). */
  #document(): Obj {
    const doc = this.#loader.raw() ?? {};
    if (!Array.isArray(doc.users)) doc.users = [];
    if (!Array.isArray(doc.recipients)) doc.recipients = [];
    return doc;
  }

  /**
   * Members written as ids (a member object with contacts whose id is no user yet becomes one), and
   * masked robot keys sent back restored to the keys they stand for.
   */
  #prepare(doc: Obj, group: Obj): AdminResult<null> {
    const users = doc.users as unknown[];
    const known = new Set(users.flatMap((u) => (isObject(u) && typeof u.id === "string" ? [u.id] : [])));
    for (const list of ["users", "principals"] as const) {
      const members = group[list];
      if (!Array.isArray(members)) continue;
      group[list] = members.map((m) => {
        if (!isObject(m) || typeof m.id !== "string") return m;
        if (known.has(m.id)) return m.id;
        const fields = Object.keys(m).filter((k) => k !== "id" && k !== "realname" && k !== "username");
        if (fields.length === 0) return m.id;
        const user: Obj = {};
        for (const k of USER_KEYS) if (m[k] !== undefined) user[k] = m[k];
        for (const [k, v] of Object.entries(m)) if (!(k in user)) user[k] = v;
        users.push(user);
        known.add(m.id);
        return m.id;
      });
    }
    if (Array.isArray(group.robots)) {
      const inForce = (doc.recipients as unknown[]).flatMap((g) =>
        isObject(g) && Array.isArray(g.robots) ? g.robots.filter((r): r is string => typeof r === "string") : [],
      );
      const robots: unknown[] = [];
      for (const [j, r] of group.robots.entries()) {
        if (typeof r !== "string" || !MASKED.test(r)) {
          robots.push(r);
          continue;
        }
        const key = inForce.find((k) => maskSecret(k) === r);
        if (key === undefined)
          return fail(
            "api",
            `$.robots[${j}]`,
            `'${r}' is a masked robot key that stands for no key in force`,
            'send the whole key, or "${WECOM_ROBOT_KEY}"',
          );
        robots.push(key);
      }
      group.robots = robots;
    }
    return { ok: true, value: null };
  }

  /** A file whose current text is broken is not rewritten from its last good version behind the editor's back. */
  #blocked(): Problem[] | null {
    if (!this.#loader.broken()) return null;
    const first = this.#loader.problems().find((p) => p.severity !== "warning");
    return [
      {
        file: this.file,
        path: "$",
        message: `${this.file} has problems on disk (its last good version is in force); fix the file first`,
        ...(first ? { hint: first.message } : {}),
      },
    ];
  }

  /** Renders, checks as the loader would, writes atomically and puts in force. */
  async #write(doc: Obj, index: number | null): Promise<AdminResult<null>> {
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    const parsed = this.#loader.check(text);
    if (hasErrors(parsed.problems))
      return { ok: false, problems: index === null ? parsed.problems : rebase(parsed.problems, index) };
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, text);
    this.#loader.applyParsed(text, parsed);
    return { ok: true, value: null };
  }
}

function withoutAgentFields(body: Obj): Obj {
  const out = { ...body };
  for (const k of AGENT_FIELDS) delete out[k];
  return out;
}
