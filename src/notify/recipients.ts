// The recipients file (docs/notifications.md, Recipients): the people who can be told and the
// groups rules name, in the platform's `/recipient/*` shape. This module checks a file's text and
// normalizes it into RecipientGroups with their members resolved to users; it never throws for
// user input. `${VAR}` references are substituted as in the config (config/env.ts), so robot keys
// live in the service environment. Robot keys are secrets: never shown whole (maskSecret).

import { Collector, isObject, kind, type Obj } from "../config/collector.js";
import { closest, suggestion } from "../config/did-you-mean.js";
import { substituteEnv } from "../config/env.js";
import { childPath } from "../config/json-scan.js";
import { parseJsonText } from "../config/load.js";
import type { Problem } from "../core/errors.js";
import type { RecipientGroup, RecipientUser } from "./types.js";

/** What the agent knows of its recipient groups; the planner and `notify test` read it. */
export interface RecipientDirectory {
  /** The group with this id, members resolved. */
  get(id: string): RecipientGroup | undefined;
  /** Every group in force, in file order. */
  list(): RecipientGroup[];
  /** Every user in force (the file's `users`, then inline members), in file order. */
  users(): RecipientUser[];
  /** Problems of the file: errors of a version not in force, warnings of the one in force. */
  problems(): Problem[];
  /** Called after a new version is in force; returns a function that removes the listener. */
  onChange(listener: () => void): () => void;
}

/** What a file is checked against: the environment for `${VAR}`, and the channels configured. */
export interface RecipientCheckContext {
  env: NodeJS.ProcessEnv;
  /** notify.email is configured (else users' e-mail addresses are warned about). */
  email: boolean;
  /** notify.wecom is configured (else users' wecomUserId is warned about). */
  wecom: boolean;
}

export interface ParsedRecipients {
  /** Normalized groups, members resolved; empty when the file has an error. */
  groups: RecipientGroup[];
  users: RecipientUser[];
  /** The document as written (references unsubstituted), for the local API's rewrites; null on a syntax error. */
  raw: Obj | null;
  problems: Problem[];
  /** Robot keys (substituted), to be masked wherever they could be shown. */
  secrets: string[];
}

export const USER_KEYS = ["id", "realname", "username", "email", "wecomUserId", "phone"] as const;
export const GROUP_KEYS = [
  "id",
  "name",
  "description",
  "delay",
  "principals",
  "users",
  "robots",
  "created",
  "updated",
  "ownerId",
] as const;
const TOP_KEYS = ["users", "recipients"] as const;
const CONTACT_KEYS = ["email", "wecomUserId", "phone"] as const;

/** A plain address: one `@`, no spaces or brackets, a dotted or single-label domain. */
const EMAIL =
  /^[^\s@<>()[\],;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export function isEmailAddress(s: string): boolean {
  return EMAIL.test(s);
}

/** All but the last 4 characters hidden; a `${VAR}` reference is not a secret and is shown as written. */
export function maskSecret(value: string): string {
  if (/^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/.test(value)) return value;
  return value.length <= 4 ? "****" : `****${value.slice(-4)}`;
}

/** The group id a rule's `recipient` names: the string itself, or the `id` of a platform object. */
export function recipientRef(recipient: unknown): string | undefined {
  if (typeof recipient === "string") return recipient.trim() === "" ? undefined : recipient;
  if (isObject(recipient) && typeof recipient.id === "string" && recipient.id !== "") return recipient.id;
  return undefined;
}

/** Checks and normalizes a recipients file's text. */
export function parseRecipientsText(file: string, text: string, ctx: RecipientCheckContext): ParsedRecipients {
  const parsed = parseJsonText(text, file);
  if (parsed.value === undefined) return { groups: [], users: [], raw: null, problems: parsed.problems, secrets: [] };
  const raw = isObject(parsed.value) ? structuredClone(parsed.value) : null;
  const r = checkRecipientsDocument(file, parsed.value, ctx);
  return { ...r, raw, problems: [...parsed.problems, ...r.problems] };
}

/** Whether a problem list makes the file invalid (warnings do not). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity !== "warning");
}

/** Checks a parsed document (references unsubstituted; the value is not changed). */
export function checkRecipientsDocument(
  file: string,
  value: unknown,
  ctx: RecipientCheckContext,
): Omit<ParsedRecipients, "raw"> {
  const c = new Collector(file);
  if (!isObject(value)) {
    c.error("$", `expected an object {"users": [...], "recipients": [...]}, got ${kind(value)}`);
    return { groups: [], users: [], problems: c.problems, secrets: [] };
  }
  const doc = structuredClone(value);
  const sub = substituteEnv(doc, ctx.env, file);
  const secrets = new Set<string>();
  // An unset robot variable drops that robot (the rest of the file still works): a warning.
  for (const p of sub.problems) {
    if (/\.robots\[\d+\]$/.test(p.path)) c.problems.push({ ...p, severity: "warning", hint: "this robot is not told" });
    else c.problems.push(p);
  }
  for (const k of Object.keys(doc)) {
    if ((TOP_KEYS as readonly string[]).includes(k) || k.startsWith("_") || k.startsWith("$")) continue;
    c.error(childPath("$", k), `unknown key '${k}' in the recipients file`, suggestion(k, TOP_KEYS));
  }

  const users = new Map<string, { user: RecipientUser; path: string }>();
  const usersList = doc.users === undefined ? [] : doc.users;
  if (!Array.isArray(usersList)) c.error("$.users", `expected an array of users, got ${kind(usersList)}`);
  else
    usersList.forEach((u, i) => {
      const path = `$.users[${i}]`;
      const user = checkUser(c, u, path, ctx);
      if (!user) return;
      const before = users.get(user.id);
      if (before) c.error(childPath(path, "id"), `duplicate user id '${user.id}'`, `also at ${before.path}`);
      else users.set(user.id, { user, path });
    });

  const groups: RecipientGroup[] = [];
  const groupPaths = new Map<string, string>();
  const inline = new Map<string, RecipientUser>();
  const list = doc.recipients === undefined ? [] : doc.recipients;
  if (!Array.isArray(list)) c.error("$.recipients", `expected an array of recipient groups, got ${kind(list)}`);
  else
    list.forEach((g, i) => {
      const path = `$.recipients[${i}]`;
      const group = checkGroup(c, g, path, ctx, users, inline, sub.problems);
      if (!group) return;
      const before = groupPaths.get(group.id);
      if (before) c.error(childPath(path, "id"), `duplicate recipient id '${group.id}'`, `also at ${before}`);
      else groupPaths.set(group.id, path);
      for (const r of group.robots ?? []) secrets.add(r);
      groups.push(group);
    });

  const ok = !hasErrors(c.problems);
  return {
    groups: ok ? groups : [],
    users: ok ? [...[...users.values()].map((u) => u.user), ...inline.values()] : [],
    problems: c.problems,
    secrets: [...secrets],
  };
}

function checkUser(c: Collector, u: unknown, path: string, ctx: RecipientCheckContext): RecipientUser | null {
  if (!isObject(u)) {
    c.error(path, `expected a user object {"id", "realname", "email", ...}, got ${kind(u)}`);
    return null;
  }
  const before = c.problems.length;
  const id = u.id;
  if (id === undefined) c.error(childPath(path, "id"), "missing required key 'id'");
  else if (typeof id !== "string" || id.trim() === "")
    c.error(childPath(path, "id"), `expected a non-empty string, got ${kind(id)}`);
  for (const k of USER_KEYS) {
    if (k === "id" || u[k] === undefined) continue;
    if (typeof u[k] !== "string") c.error(childPath(path, k), `expected a string, got ${kind(u[k])}`);
  }
  warnNearKeys(c, u, path, USER_KEYS, "user");
  if (c.problems.slice(before).some((p) => p.severity !== "warning")) return null;
  const user = u as RecipientUser;
  const who = `user '${user.id}'`;
  if (user.email !== undefined) {
    if (!isEmailAddress(user.email))
      c.error(
        childPath(path, "email"),
        `'${user.email}' is not an e-mail address`,
        "write a plain address such as name@example.com",
      );
    else if (!ctx.email)
      c.warn(
        childPath(path, "email"),
        `${who} has an e-mail address but notify.email is not configured: no e-mail is sent`,
        "configure notify.email (SMTP) in the config, or remove the address",
      );
  }
  if (user.wecomUserId !== undefined && user.wecomUserId !== "" && !ctx.wecom)
    c.warn(
      childPath(path, "wecomUserId"),
      `${who} has a wecomUserId but notify.wecom is not configured: no WeCom message is sent`,
      "configure notify.wecom (corpId, agentId, secret) in the config, or remove the field",
    );
  if (!CONTACT_KEYS.some((k) => typeof user[k] === "string" && user[k] !== ""))
    c.warn(
      path,
      `${who} has no contact (email, wecomUserId or phone): nobody can reach them`,
      "add an e-mail address or a wecomUserId",
    );
  return { ...user };
}

function checkGroup(
  c: Collector,
  g: unknown,
  path: string,
  ctx: RecipientCheckContext,
  users: ReadonlyMap<string, { user: RecipientUser; path: string }>,
  inline: Map<string, RecipientUser>,
  envProblems: readonly Problem[],
): RecipientGroup | null {
  if (!isObject(g)) {
    c.error(path, `expected a recipient group object {"id", "name", "users", ...}, got ${kind(g)}`);
    return null;
  }
  const before = c.problems.length;
  const id = g.id;
  if (id === undefined) c.error(childPath(path, "id"), "missing required key 'id'");
  else if (typeof id !== "string" || id.trim() === "")
    c.error(childPath(path, "id"), `expected a non-empty string, got ${kind(id)}`);
  for (const k of ["name", "description", "ownerId"] as const)
    if (g[k] !== undefined && typeof g[k] !== "string")
      c.error(childPath(path, k), `expected a string, got ${kind(g[k])}`);
  const delay = g.delay;
  if (delay !== undefined) {
    const dp = childPath(path, "delay");
    if (typeof delay !== "number" || !Number.isFinite(delay))
      c.error(
        dp,
        `expected a number of seconds, got ${kind(delay)}`,
        typeof delay === "string" && Number.isFinite(Number(delay)) ? `write ${delay} without quotes` : undefined,
      );
    else if (delay < 0) c.error(dp, `delay ${delay} is negative`, "seconds before users are told: 0 or more");
    else if (!Number.isInteger(delay)) c.error(dp, `expected whole seconds, got ${delay}`);
  }
  for (const k of ["created", "updated"] as const)
    if (g[k] !== undefined && (typeof g[k] !== "number" || !Number.isFinite(g[k])))
      c.error(childPath(path, k), `expected epoch milliseconds, got ${kind(g[k])}`);
  const members = {
    users: memberList(c, g.users, childPath(path, "users"), ctx, users, inline),
    principals: memberList(c, g.principals, childPath(path, "principals"), ctx, users, inline),
  };
  const robots: string[] = [];
  if (g.robots !== undefined) {
    const rp = childPath(path, "robots");
    if (!Array.isArray(g.robots)) c.error(rp, `expected an array of robot keys, got ${kind(g.robots)}`);
    else
      g.robots.forEach((r, j) => {
        const p = childPath(rp, j);
        if (typeof r !== "string") c.error(p, `expected a robot key or webhook URL (a string), got ${kind(r)}`);
        else if (r === "") {
          // An unset variable was reported as such above; an empty literal is a mistake of its own.
          if (!envProblems.some((e) => e.path === p))
            c.error(p, "empty robot key", 'write the key or "${WECOM_ROBOT_KEY}"');
        } else robots.push(r);
      });
  }
  warnNearKeys(c, g, path, GROUP_KEYS, "recipient group");
  if (c.problems.slice(before).some((p) => p.severity !== "warning")) return null;
  const out: RecipientGroup = {
    ...g,
    id: id as string,
    name: typeof g.name === "string" && g.name !== "" ? g.name : (id as string),
    delay: typeof delay === "number" ? delay : 0,
    users: members.users,
    principals: members.principals,
  };
  if (g.robots !== undefined) out.robots = robots;
  return out;
}

function memberList(
  c: Collector,
  v: unknown,
  path: string,
  ctx: RecipientCheckContext,
  users: ReadonlyMap<string, { user: RecipientUser; path: string }>,
  inline: Map<string, RecipientUser>,
): RecipientUser[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    c.error(path, `expected an array of user ids, got ${kind(v)}`);
    return [];
  }
  const out: RecipientUser[] = [];
  v.forEach((m, j) => {
    const p = childPath(path, j);
    if (typeof m === "string") {
      const known = users.get(m)?.user;
      if (known) out.push(known);
      else c.error(p, `unknown user '${m}'`, unknownUserHint(m, users));
      return;
    }
    if (isObject(m)) {
      if (typeof m.id !== "string" || m.id === "") {
        c.error(childPath(p, "id"), "a member object needs the user's 'id'");
        return;
      }
      // The platform answers members as objects: one listed in `users` is that user; another one is
      // a user defined here, checked like the others.
      const known = users.get(m.id)?.user ?? inline.get(m.id);
      if (known) out.push(known);
      else {
        const user = checkUser(c, m, p, ctx);
        if (user) {
          inline.set(user.id, user);
          out.push(user);
        }
      }
      return;
    }
    c.error(p, `expected a user id (a string), got ${kind(m)}`);
  });
  return out;
}

function unknownUserHint(ref: string, users: ReadonlyMap<string, { user: RecipientUser; path: string }>): string {
  for (const { user } of users.values())
    if (user.username === ref || user.realname === ref) return `members are named by id: did you mean '${user.id}'?`;
  const near = closest(ref, users.keys());
  if (near !== undefined) return `did you mean '${near}'?`;
  return users.size === 0
    ? 'the file has no users: add {"id": "...", "email": "..."} to "users"'
    : `add the user to "users", or use one of: ${[...users.keys()]
        .slice(0, 8)
        .map((k) => `'${k}'`)
        .join(", ")}`;
}

/** Extra fields are kept (the platform's own); one a typo away from a known key is likely meant to be it. */
function warnNearKeys(c: Collector, o: Obj, path: string, known: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const near = closest(k, known);
    if (near !== undefined && near !== k)
      c.warn(childPath(path, k), `unknown key '${k}' in ${what} (kept as is)`, `did you mean '${near}'?`);
  }
}

/** A rule as far as its recipient matters. */
export interface RuleRecipientRef {
  id: string;
  recipient?: unknown;
}

/** Rules whose `recipient` names no group of the directory (their alarms tell nobody). */
export function unknownRecipients(
  rules: readonly RuleRecipientRef[],
  directory: Pick<RecipientDirectory, "get">,
): { rule: string; recipient: string }[] {
  const out: { rule: string; recipient: string }[] = [];
  for (const r of rules) {
    const ref = recipientRef(r.recipient);
    if (ref !== undefined && directory.get(ref) === undefined) out.push({ rule: r.id, recipient: ref });
  }
  return out;
}

/** A directory over one parsed version (validate, tests, and the planner's tests). */
export class StaticRecipientDirectory implements RecipientDirectory {
  readonly #groups: Map<string, RecipientGroup>;
  readonly #users: RecipientUser[];
  readonly #problems: Problem[];
  constructor(groups: readonly RecipientGroup[], users: readonly RecipientUser[] = [], problems: Problem[] = []) {
    this.#groups = new Map(groups.map((g) => [g.id, g]));
    this.#users = [...users];
    this.#problems = problems;
  }
  get(id: string): RecipientGroup | undefined {
    return this.#groups.get(id);
  }
  list(): RecipientGroup[] {
    return [...this.#groups.values()];
  }
  users(): RecipientUser[] {
    return [...this.#users];
  }
  problems(): Problem[] {
    return [...this.#problems];
  }
  onChange(): () => void {
    return () => undefined;
  }
}
