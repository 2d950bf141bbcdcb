// Renders the message one channel sends to one address about one alarm transition (docs/
// notifications.md, "Messages and templates"): the site's template file when it has one, else the
// shipped one, filled with the alarm's facts. Times are the site's local time (config.timezone).
// A line whose placeholders all come out empty is left out (no "Area:" line for a device without
// an area, no link line without a status page URL). Values are escaped for the part they go into:
// HTML-escaped in the HTML body, neutralised in WeCom markdown, kept on one line in the subject.

import { localParts } from "../core/local-time.js";
import type { Alarm, DeviceInfo } from "../core/types.js";
import { type CompiledTemplate, shippedTemplate, type TemplatePart, type TemplateSource } from "./templates.js";
import type { ChannelName, NotificationMessage, NotifyTransition } from "./types.js";

export interface RenderInput {
  /** The alarm as committed; absent for a test message. */
  alarm?: Alarm;
  transition: NotifyTransition;
  channel: ChannelName;
  to: string;
  /** The device as the agent knows it (a DeviceState will do). */
  device?: DeviceInfo;
  /** "en", "zh", or a language only the site's templates have (shipped fallback: English). */
  lang: string;
  /** IANA time zone the times are shown in. */
  timezone: string;
  statusPageUrl?: string;
  /** Epoch ms of rendering. */
  now: number;
  /** The site's templates (notify.templatesDir); absent: shipped templates only. */
  templates?: TemplateSource;
  /** Gateway id, shown in test messages. */
  gateway?: string;
  recipientId?: string;
  userId?: string;
}

type Values = Readonly<Record<string, string>>;

export function renderMessage(input: RenderInput): NotificationMessage {
  const values = placeholderValues(input);
  const pick = (part: TemplatePart): CompiledTemplate =>
    input.templates?.get(input.transition, input.lang, part) ?? shippedTemplate(input.transition, input.lang, part);
  // Robots speak WeCom markdown, WeCom application messages plain text; e-mail and hook channels get both text and HTML.
  const body =
    input.channel === "robot" ? fill(pick("markdown"), values, "markdown") : fill(pick("text"), values, "text");
  const msg: NotificationMessage = {
    channel: input.channel,
    to: input.to,
    transition: input.transition,
    lang: input.lang,
    subject: fill(pick("subject"), values, "subject").trim(),
    text: body,
  };
  if (input.channel === "email" || input.channel.startsWith("channel:")) msg.html = fill(pick("html"), values, "html");
  if (input.alarm !== undefined) msg.alarm = input.alarm;
  if (input.recipientId !== undefined) msg.recipientId = input.recipientId;
  if (input.userId !== undefined) msg.userId = input.userId;
  return msg;
}

type Escape = "text" | "subject" | "html" | "markdown";

/** A template filled with values; lines whose placeholders are all empty are dropped. */
export function fill(t: CompiledTemplate, values: Values, mode: Escape): string {
  const out: string[] = [];
  for (const segs of t.lines) {
    let line = "";
    let placeholders = 0;
    let filled = 0;
    for (const s of segs) {
      if (typeof s === "string") {
        line += s;
        continue;
      }
      if (!Object.hasOwn(values, s.name)) {
        // Unknown to the agent: kept as written (the file's author was warned when it was read).
        line += s.raw;
        continue;
      }
      placeholders++;
      const v = values[s.name] ?? "";
      if (v !== "") filled++;
      line += escapeFor(v, mode);
    }
    if (placeholders > 0 && filled === 0) continue;
    out.push(line);
  }
  return out.join("\n").replace(/\n+$/, "");
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

function escapeFor(v: string, mode: Escape): string {
  switch (mode) {
    case "text":
      return v;
    case "subject":
      return v.replace(/[\r\n]+/g, " ");
    case "html":
      return escapeHtml(v).replace(/\r?\n/g, "<br>");
    case "markdown":
      // WeCom markdown reads `<font …>` and `<@userid>` mentions: a device's text must not add them.
      return v.replace(/</g, "＜");
  }
}

const LEVELS: Record<"en" | "zh", readonly string[]> = {
  en: ["info", "info", "warning", "warning", "critical", "fatal"],
  zh: ["提示", "提示", "警告", "警告", "严重", "致命"],
};
const STATUS: Record<"en" | "zh", readonly string[]> = {
  en: ["Resolved", "Pre-warning", "Alarm"],
  zh: ["已恢复", "预警", "告警"],
};
const OPERATORS: Record<string, string> = {
  equal: "=",
  notEqual: "≠",
  lessThan: "<",
  lessThanInclusive: "≤",
  greaterThan: ">",
  greaterThanInclusive: "≥",
  in: "in",
  notIn: "not in",
  contains: "contains",
  doesNotContain: "does not contain",
};

/** Every placeholder's value for this message ("" where there is nothing to say). */
export function placeholderValues(input: RenderInput): Values {
  const lang = input.lang === "zh" ? "zh" : "en";
  const a = input.alarm;
  const d = input.device;
  const v: Record<string, string> = {
    channel: input.channel.replace(/^channel:/, ""),
    gateway: input.gateway ?? "",
    link: input.statusPageUrl ?? "",
    now: localTime(input.now, input.timezone),
    title: "",
    message: "",
    device: "",
    deviceId: "",
    area: "",
    location: "",
    fact: "",
    value: "",
    operator: "",
    threshold: "",
    level: "",
    status: "",
    since: "",
    resolved: "",
    duration: "",
    alarmId: "",
    rule: "",
  };
  if (a === undefined) return v;
  v.title = a.title;
  v.message = a.message === a.title ? "" : a.message;
  v.alarmId = a.id;
  v.rule = a.name;
  const name = d?.name ?? a.resource.name;
  v.deviceId = a.resource.id;
  v.device = name !== undefined && name !== "" && name !== a.resource.id ? `${name} (${a.resource.id})` : a.resource.id;
  const area = a.resource.areaId ?? d?.areaId;
  v.area = area === undefined || area === null ? "" : String(area);
  v.location = formatLocation(a.location ?? d?.location ?? null);
  const cond = condition(a.details);
  v.fact = cond.fact;
  v.value = cond.value;
  v.operator = cond.operator;
  v.threshold = cond.threshold;
  v.level = LEVELS[lang][a.level] ?? String(a.level);
  v.status = STATUS[lang][input.transition === "recover" ? 0 : a.status] ?? "";
  v.since = localTime(a.created, input.timezone);
  const end = input.transition === "recover" ? (a.resolvedAt ?? input.now) : input.now;
  if (a.resolvedAt !== null) v.resolved = localTime(a.resolvedAt, input.timezone);
  v.duration = formatDuration(end - a.created, lang);
  return v;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** "2026-11-29 22:03:15" in `tz`. */
export function localTime(epochMs: number, tz: string): string {
  const p = localParts(epochMs, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** "45 s", "12 min", "2 h 5 min", "3 d 4 h" (zh: 秒, 分钟, 小时, 天); rounded down. */
export function formatDuration(ms: number, lang: "en" | "zh"): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const u = lang === "zh" ? { s: "秒", m: "分钟", h: "小时", d: "天" } : { s: "s", m: "min", h: "h", d: "d" };
  if (s < 60) return `${s} ${u.s}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} ${u.m}`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} ${u.h}` : `${h} ${u.h} ${m % 60} ${u.m}`;
  const days = Math.floor(h / 24);
  return h % 24 === 0 ? `${days} ${u.d}` : `${days} ${u.d} ${h % 24} ${u.h}`;
}

function show(x: unknown): string {
  if (x === undefined || x === null) return "";
  if (typeof x === "string") return x;
  if (typeof x === "number") return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
  if (typeof x === "boolean") return String(x);
  return JSON.stringify(x) ?? "";
}

function record(x: unknown): Record<string, unknown> | null {
  return x !== null && typeof x === "object" && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
}

/**
 * The condition to show: the first leaf that held when the alarm was raised or escalated
 * (`details.held`), else the rule's first threshold with the fact's last value (`details.thresholds`,
 * `details.facts`), as the alarm's description recorded them.
 */
function condition(details: Record<string, unknown>): {
  fact: string;
  value: string;
  operator: string;
  threshold: string;
} {
  const held = Array.isArray(details.held) ? record(details.held[0]) : null;
  if (held !== null && typeof held.fact === "string") {
    const path = typeof held.path === "string" ? held.path.replace(/^\$/, "") : "";
    return {
      fact: `${held.fact}${path}`,
      value: show(held.actual),
      operator: OPERATORS[String(held.operator)] ?? show(held.operator),
      threshold: show(held.threshold),
    };
  }
  const first = Array.isArray(details.thresholds) ? record(details.thresholds[0]) : null;
  if (first === null || typeof first.fact !== "string") return { fact: "", value: "", operator: "", threshold: "" };
  const facts = record(details.facts) ?? {};
  const ref = record(first.value);
  const threshold = ref !== null && typeof ref.fact === "string" ? facts[ref.fact] : first.value;
  return {
    fact: first.fact,
    value: typeof first.path === "string" ? "" : show(facts[first.fact]),
    operator: OPERATORS[String(first.operator)] ?? show(first.operator),
    threshold: show(threshold),
  };
}

/** A location object as one line: its name or address when it has one, else "key value, …". */
function formatLocation(loc: Record<string, unknown> | null): string {
  if (loc === null) return "";
  for (const k of ["name", "address", "description", "text"]) {
    const s = loc[k];
    if (typeof s === "string" && s !== "") return s;
  }
  const parts: string[] = [];
  for (const [k, x] of Object.entries(loc)) {
    const s = show(x);
    if (s !== "") parts.push(`${k} ${s}`);
  }
  return parts.join(", ");
}
