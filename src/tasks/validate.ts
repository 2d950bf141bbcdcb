// Validation of task documents (docs/tasks.md, Validation): strict JSON with line:column, then every
// problem with file, JSON path, reason and a hint ("did you mean"). The schedule is checked by
// compiling it exactly as the scheduler will; a modbus.write is checked by the same rules as the
// live write (config/modbus-writes.ts), so a file accepted is a write accepted. Never throws for
// user input. A valid document yields normalized TaskDefinitions and the documents as written.
// A little over 400 lines: one walk over a task document, one check per field and per action kind;
// split, each half would need the other's collector and path bookkeeping.

import {
  type Collector as C,
  Collector,
  checkNumber,
  checkString,
  isObject,
  kind,
  type Obj,
} from "../config/collector.js";
import { suggestion } from "../config/did-you-mean.js";
import { childPath } from "../config/json-scan.js";
import { parseJsonText } from "../config/load.js";
import { modbusWriteTarget, type WritableDevice, writeValueProblem } from "../config/modbus-writes.js";
import type { Problem } from "../core/errors.js";
import { derivedTaskIds, normalizeTask, PLATFORM_TASK_NAME, TASK_ID_PATTERN } from "./normalize.js";
import { compileSchedule, ScheduleError } from "./schedule.js";
import { TASK_ACTION_TYPES, type TaskDefinition } from "./types.js";

/** What a task is checked against: the agent's config, and the hooks there are. */
export interface TaskCheckContext {
  /** Time zone of schedules that name none (the config's `timezone`). */
  timezone: string;
  defaultTimeoutMs: number;
  /** The Modbus devices modbus.write may reach. */
  modbusDevices: readonly WritableDevice[];
  /** Whether the config has an MQTT connection (mqtt.publish needs one). */
  mqtt: boolean;
  /** The hooks' names (file names without .js/.mjs) in hooksDir; undefined: not checked. */
  hookNames?: ReadonlySet<string> | undefined;
  /** Hooks the config disables (hooks.disabled). */
  disabledHooks?: readonly string[] | undefined;
}

/** The fields of the platform's task object and the agent's own; any other field is kept as given. */
const TASK_KEYS = [
  "id",
  "name",
  "type",
  "isEnable",
  "description",
  "schedule",
  "timezone",
  "misfire",
  "timeoutMs",
  "actions",
  "created",
  "updated",
  "ownerId",
] as const;
const SCHEDULE_KEYS = ["cron", "every", "times", "days"] as const;
const MISFIRE = ["skip", "once"] as const;
const COMMON_ACTION_KEYS = ["type", "timeoutMs", "retry"] as const;
const ACTION_KEYS: Record<(typeof TASK_ACTION_TYPES)[number], readonly string[]> = {
  "modbus.write": ["device", "point", "value"],
  "mqtt.publish": ["topic", "payload", "qos", "retain"],
  webhook: ["url", "method", "headers", "body"],
  hook: ["hook", "method", "args"],
  "alarm.raise": ["name", "device", "level", "title", "message", "details"],
  "alarm.resolve": ["name", "device", "remark"],
};
const WEBHOOK_METHODS = ["POST", "PUT", "GET"] as const;

export interface ValidatedTask {
  /** The normalized definition; null when the document has errors. */
  task: TaskDefinition | null;
  /** The document as written (a copy), when valid. */
  doc: Obj | null;
  problems: Problem[];
}

/** Whether a problem list makes its file invalid (warnings do not). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity !== "warning");
}

/**
 * Validates one parsed task object; returns the normalized task when it has no errors. A task
 * without an id gets `fallbackId` (by default the id derived from the file name).
 */
export function validateTaskObject(
  file: string,
  value: unknown,
  ctx: TaskCheckContext,
  path = "$",
  fallbackId?: string,
): ValidatedTask {
  const c = new Collector(file);
  checkTask(c, value, path, ctx);
  if (hasErrors(c.problems)) return { task: null, doc: null, problems: c.problems };
  const doc = structuredClone(value as Obj);
  const id = typeof doc.id === "string" ? doc.id : (fallbackId ?? (derivedTaskIds(file, [doc], false)[0] as string));
  return { task: normalizeTask(doc, id, ctx), doc, problems: c.problems };
}

/**
 * Parses a task file's text: one task or an array of tasks. `tasks` holds the valid document's tasks
 * (normalized, ids derived where the file gives none) and `docs` the same tasks as written; both are
 * empty when the file has an error.
 */
export function parseTaskDocument(
  file: string,
  text: string,
  ctx: TaskCheckContext,
): { tasks: TaskDefinition[]; docs: Obj[]; problems: Problem[] } {
  const parsed = parseJsonText(text, file);
  if (parsed.value === undefined) return { tasks: [], docs: [], problems: parsed.problems };
  const problems: Problem[] = [...parsed.problems];
  const doc = parsed.value;
  const asArray = Array.isArray(doc);
  const list = asArray ? doc : [doc];
  const derived = derivedTaskIds(file, list, asArray);
  const tasks: TaskDefinition[] = [];
  const docs: Obj[] = [];
  const ids = new Map<string, string>();
  list.forEach((item, i) => {
    const path = asArray ? `$[${i}]` : "$";
    const v = validateTaskObject(file, item, ctx, path, derived[i]);
    problems.push(...v.problems);
    if (v.task === null || v.doc === null) return;
    const before = ids.get(v.task.id);
    if (before !== undefined)
      problems.push({
        file,
        path: `${path}.id`,
        message: `duplicate task id '${v.task.id}'`,
        hint: `also at ${before}`,
      });
    else ids.set(v.task.id, path);
    tasks.push(v.task);
    docs.push(v.doc);
  });
  const ok = !hasErrors(problems);
  return { tasks: ok ? tasks : [], docs: ok ? docs : [], problems };
}

function checkTask(c: C, t: unknown, path: string, ctx: TaskCheckContext): void {
  if (!isObject(t)) {
    c.error(path, `expected a task object, got ${kind(t)}`);
    return;
  }
  // Other fields of the platform's object are kept as given; one that looks like a typo of a known
  // field is said, since the field it meant is then missing or left at its default.
  const meant = new Set<string>();
  for (const k of Object.keys(t)) {
    if ((TASK_KEYS as readonly string[]).includes(k)) continue;
    const hint = suggestion(k, TASK_KEYS);
    if (!hint?.startsWith("did you mean")) continue;
    meant.add(hint.slice(14, -2));
    c.warn(childPath(path, k), `unknown key '${k}' in a task (kept as given)`, hint);
  }
  checkString(c, t, "id", path, false);
  if (t.id === "") c.error(childPath(path, "id"), `'id' must not be empty`, "remove it to have one derived");
  if (typeof t.id === "string" && t.id !== "" && !TASK_ID_PATTERN.test(t.id))
    c.error(
      childPath(path, "id"),
      `task id '${t.id}' may use only letters, digits, '_', '-' and '.'`,
      "it names the task's file",
    );
  for (const k of ["name", "type", "description", "timezone", "ownerId"]) checkString(c, t, k, path, false);
  if (typeof t.name === "string" && !PLATFORM_TASK_NAME.test(t.name))
    c.warn(
      childPath(path, "name"),
      `the platform allows only letters and digits in a task name, got '${t.name}'`,
      "rename it before the task goes to the platform",
    );
  if (t.isEnable !== undefined && typeof t.isEnable !== "boolean")
    c.error(childPath(path, "isEnable"), `expected true or false, got ${kind(t.isEnable)}`);
  if (t.misfire !== undefined && !(MISFIRE as readonly unknown[]).includes(t.misfire)) {
    const m = t.misfire;
    c.error(
      childPath(path, "misfire"),
      typeof m === "string" ? `unknown misfire policy '${m}'` : `expected 'skip' or 'once', got ${kind(m)}`,
      typeof m === "string" ? suggestion(m, MISFIRE) : undefined,
    );
  }
  checkNumber(c, t, "timeoutMs", path, { min: 1, integer: true, unit: "ms" });
  for (const k of ["created", "updated"]) {
    const v = t[k];
    if (v === undefined) continue;
    const ok = (typeof v === "number" && Number.isFinite(v) && v >= 0) || (typeof v === "string" && v.trim() !== "");
    if (!ok) c.error(childPath(path, k), `expected epoch milliseconds or a date string, got ${kind(v)}`);
  }
  if (t.schedule === undefined) {
    if (!meant.has("schedule"))
      c.error(
        childPath(path, "schedule"),
        `missing required key 'schedule'`,
        `e.g. {"times": ["22:00"], "days": [1, 2, 3, 4, 5]}`,
      );
  } else checkSchedule(c, t, path, ctx);
  if (t.actions === undefined) {
    if (!meant.has("actions"))
      c.error(
        childPath(path, "actions"),
        `missing required key 'actions'`,
        `e.g. [{"type": "webhook", "url": "https://…"}]`,
      );
  } else if (!Array.isArray(t.actions)) {
    c.error(childPath(path, "actions"), `expected a list of actions, got ${kind(t.actions)}`);
  } else if (t.actions.length === 0) {
    c.error(childPath(path, "actions"), "a task needs at least one action");
  } else {
    t.actions.forEach((a, i) => {
      checkAction(c, a, childPath(childPath(path, "actions"), i), ctx);
    });
  }
}

function checkSchedule(c: C, t: Obj, path: string, ctx: TaskCheckContext): void {
  const sp = childPath(path, "schedule");
  const s = t.schedule;
  if (!isObject(s)) {
    c.error(
      sp,
      `expected a schedule object, got ${kind(s)}`,
      `one of {"cron": "0 22 * * 1-5"}, {"every": 60}, {"times": ["22:00"]}`,
    );
    return;
  }
  const before = c.problems.length;
  c.unknownKeys(s, sp, SCHEDULE_KEYS, "a schedule");
  if (typeof t.timezone === "string" && !isTimeZone(t.timezone)) {
    c.error(childPath(path, "timezone"), `unknown time zone '${t.timezone}'`, timeZoneHint(t.timezone));
    return;
  }
  if (c.problems.length > before || (t.timezone !== undefined && typeof t.timezone !== "string")) return;
  try {
    compileSchedule(s as never, typeof t.timezone === "string" ? t.timezone : ctx.timezone);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    // The scheduler names the field under the task ("$.schedule.times[0]"); put it under this task's path.
    const at = err.path === "$" ? path : `${path}${err.path.slice(1)}`;
    const reason = err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message;
    c.error(at, reason);
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function timeZoneHint(tz: string): string {
  const all = Intl.supportedValuesOf("timeZone");
  const close = suggestion(tz, all);
  return close?.startsWith("did you mean") ? close : "use an IANA name such as Europe/Prague or UTC";
}

function checkAction(c: C, a: unknown, path: string, ctx: TaskCheckContext): void {
  if (!isObject(a)) {
    c.error(
      path,
      `expected an action object, got ${kind(a)}`,
      `e.g. {"type": "modbus.write", "device": "…", "point": "…", "value": false}`,
    );
    return;
  }
  const tp = childPath(path, "type");
  const type = a.type;
  if (type === undefined) {
    c.error(tp, `missing required key 'type'`, `one of: ${TASK_ACTION_TYPES.map((x) => `'${x}'`).join(", ")}`);
    return;
  }
  if (typeof type !== "string" || !(TASK_ACTION_TYPES as readonly string[]).includes(type)) {
    c.error(
      tp,
      typeof type === "string" ? `unknown action type '${type}'` : `expected an action type, got ${kind(type)}`,
      typeof type === "string" ? suggestion(type, TASK_ACTION_TYPES) : undefined,
    );
    return;
  }
  const t = type as (typeof TASK_ACTION_TYPES)[number];
  c.unknownKeys(a, path, [...COMMON_ACTION_KEYS, ...ACTION_KEYS[t]], `a ${t} action`);
  checkNumber(c, a, "timeoutMs", path, { min: 1, integer: true, unit: "ms" });
  if (a.retry !== undefined) {
    const rp = childPath(path, "retry");
    if (!isObject(a.retry))
      c.error(rp, `expected an object such as {"attempts": 3, "delayMs": 5000}, got ${kind(a.retry)}`);
    else {
      c.unknownKeys(a.retry, rp, ["attempts", "delayMs"], "retry");
      checkNumber(c, a.retry, "attempts", rp, { min: 1, max: 100, integer: true });
      checkNumber(c, a.retry, "delayMs", rp, { min: 0, integer: true, unit: "ms" });
    }
  }
  switch (t) {
    case "modbus.write":
      checkModbusWrite(c, a, path, ctx);
      return;
    case "mqtt.publish":
      checkString(c, a, "topic", path, true);
      if (typeof a.topic === "string" && /[+#]/.test(a.topic))
        c.error(childPath(path, "topic"), `'${a.topic}' has a wildcard: a message is published to one topic`);
      if (a.qos !== undefined && a.qos !== 0 && a.qos !== 1 && a.qos !== 2)
        c.error(childPath(path, "qos"), `expected 0, 1 or 2, got ${JSON.stringify(a.qos)}`);
      if (a.retain !== undefined && typeof a.retain !== "boolean")
        c.error(childPath(path, "retain"), `expected true or false, got ${kind(a.retain)}`);
      if (!ctx.mqtt)
        c.error(
          tp,
          "mqtt.publish needs an MQTT connection, and the config has no mqtt section",
          "add one, or remove the action",
        );
      return;
    case "webhook":
      checkWebhook(c, a, path);
      return;
    case "hook":
      checkString(c, a, "hook", path, true);
      checkString(c, a, "method", path, true);
      checkHookExists(c, a, path, ctx);
      return;
    case "alarm.raise":
      checkString(c, a, "name", path, true);
      for (const k of ["device", "title", "message"]) checkString(c, a, k, path, false);
      checkNumber(c, a, "level", path, { min: 0, max: 5, integer: true });
      if (a.details !== undefined && !isObject(a.details))
        c.error(childPath(path, "details"), `expected an object, got ${kind(a.details)}`);
      return;
    case "alarm.resolve":
      checkString(c, a, "name", path, true);
      for (const k of ["device", "remark"]) checkString(c, a, k, path, false);
      return;
  }
}

function checkModbusWrite(c: C, a: Obj, path: string, ctx: TaskCheckContext): void {
  checkString(c, a, "device", path, true);
  checkString(c, a, "point", path, true);
  if (!Object.hasOwn(a, "value")) c.error(childPath(path, "value"), `missing required key 'value'`);
  if (typeof a.device !== "string" || typeof a.point !== "string" || a.device === "" || a.point === "") return;
  if (ctx.modbusDevices.length === 0) {
    c.error(
      childPath(path, "device"),
      `no Modbus devices are configured (modbus.devices): '${a.device}' cannot be written`,
    );
    return;
  }
  const target = modbusWriteTarget(ctx.modbusDevices, a.device, a.point);
  if (!target.ok) {
    const field = target.field === "device" ? "device" : "point";
    const word = target.field === "device" ? a.device : a.point;
    const close = target.field === "writable" ? undefined : suggestion(word, target.known);
    c.error(
      childPath(path, field),
      `cannot write ${a.device}.${a.point}: ${target.reason}`,
      close?.startsWith("did you mean") ? close : undefined,
    );
    return;
  }
  if (!Object.hasOwn(a, "value")) return;
  const bad = writeValueProblem(target.point, a.value);
  if (bad !== null)
    c.error(childPath(path, "value"), `cannot write ${a.device}.${a.point}: ${bad}`, valueHint(target.point));
}

function valueHint(p: { table: string; type: string; length?: number | undefined }): string {
  if (p.table === "coil" || p.type === "bool") return "a coil takes true or false";
  if (p.type === "string") return `a string of at most ${(p.length ?? 1) * 2} bytes`;
  return `a number that fits ${p.type} after scale and offset`;
}

function checkWebhook(c: C, a: Obj, path: string): void {
  checkString(c, a, "url", path, true);
  if (typeof a.url === "string" && a.url !== "" && !/^https?:\/\/\S+$/.test(a.url))
    c.error(childPath(path, "url"), `expected an http:// or https:// URL, got '${a.url}'`);
  if (a.method !== undefined && !(WEBHOOK_METHODS as readonly unknown[]).includes(a.method)) {
    const m = a.method;
    c.error(
      childPath(path, "method"),
      typeof m === "string" ? `unknown method '${m}'` : `expected a method, got ${kind(m)}`,
      typeof m === "string" ? suggestion(m.toUpperCase(), WEBHOOK_METHODS) : undefined,
    );
  }
  if (a.headers !== undefined) {
    const hp = childPath(path, "headers");
    if (!isObject(a.headers)) c.error(hp, `expected an object of header names and values, got ${kind(a.headers)}`);
    else
      for (const [k, v] of Object.entries(a.headers))
        if (typeof v !== "string") c.error(childPath(hp, k), `expected a string, got ${kind(v)}`);
  }
}

function checkHookExists(c: C, a: Obj, path: string, ctx: TaskCheckContext): void {
  if (typeof a.hook !== "string" || a.hook === "" || ctx.hookNames === undefined) return;
  const hp = childPath(path, "hook");
  // Hooks load when the agent runs: a missing one may still appear, so this does not refuse the file.
  if (!ctx.hookNames.has(a.hook)) {
    const close = suggestion(a.hook, [...ctx.hookNames]);
    c.warn(
      hp,
      `no hook '${a.hook}' in the hooks directory: the action fails until one is there`,
      close?.startsWith("did you mean") ? close : "the hook's file name without .js or .mjs",
    );
  } else if (ctx.disabledHooks?.includes(a.hook)) {
    c.warn(hp, `hook '${a.hook}' is disabled (hooks.disabled): the action fails while it is`);
  }
}
