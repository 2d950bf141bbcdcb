// The message templates the agent ships, in English and Chinese, for each transition (raise,
// escalate, recover, test) and each part (subject, text, html, markdown), and the one template
// syntax shared with a site's own template files (docs/notifications.md, "Messages and templates").
// They are code, not files, so a build always carries them. Each transition is described once per
// language (heading, lead line, labelled rows) and the text, markdown and HTML forms are built from
// that description, so the three always say the same thing.

import type { NotifyTransition } from "./types.js";

export type TemplatePart = "subject" | "text" | "html" | "markdown";
export const TEMPLATE_PARTS: readonly TemplatePart[] = ["subject", "text", "html", "markdown"];
export const TRANSITIONS: readonly NotifyTransition[] = ["raise", "escalate", "recover", "test"];
export type ShippedLang = "en" | "zh";
export const SHIPPED_LANGS: readonly ShippedLang[] = ["en", "zh"];

/** Every placeholder a template may use; any other `{{name}}` is left in the text as written. */
export const PLACEHOLDERS: ReadonlySet<string> = new Set([
  "title",
  "message",
  "device",
  "deviceId",
  "area",
  "location",
  "fact",
  "value",
  "operator",
  "threshold",
  "level",
  "status",
  "since",
  "resolved",
  "now",
  "duration",
  "link",
  "gateway",
  "channel",
  "alarmId",
  "rule",
]);

/** One line of a template: literal text and placeholders, in order. */
export type Segment = string | { name: string; raw: string };

export interface CompiledTemplate {
  /** Where it came from: "shipped" or the override file's path. */
  origin: string;
  lines: Segment[][];
  /** Placeholders used that are not in PLACEHOLDERS. */
  unknown: string[];
}

/** Where a site's own templates come from (the templates directory). */
export interface TemplateSource {
  get(transition: NotifyTransition, lang: string, part: TemplatePart): CompiledTemplate | undefined;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

export function compileTemplate(source: string, origin: string): CompiledTemplate {
  const unknown = new Set<string>();
  const lines: Segment[][] = [];
  for (const line of source.replace(/\r\n/g, "\n").split("\n")) {
    const segs: Segment[] = [];
    let last = 0;
    for (const m of line.matchAll(PLACEHOLDER)) {
      const name = m[1] ?? "";
      if (m.index > last) segs.push(line.slice(last, m.index));
      segs.push({ name, raw: m[0] });
      if (!PLACEHOLDERS.has(name)) unknown.add(name);
      last = m.index + m[0].length;
    }
    if (last < line.length) segs.push(line.slice(last));
    lines.push(segs);
  }
  return { origin, lines, unknown: [...unknown] };
}

interface Description {
  subject: string;
  heading: string;
  /** Markdown font colour of the heading (WeCom: warning orange, info green, comment grey). */
  tone: "warning" | "info" | "comment";
  lead: string;
  rows: readonly (readonly [label: string, value: string])[];
  link: string;
}

const EN_VALUE = "{{fact}} = {{value}} (threshold {{operator}} {{threshold}})";
const ZH_VALUE = "{{fact}} = {{value}}（阈值 {{operator}} {{threshold}}）";

const DESCRIPTIONS: Record<ShippedLang, Record<NotifyTransition, Description>> = {
  en: {
    raise: {
      subject: "[{{level}}] {{status}}: {{title}} on {{device}}",
      heading: "{{status}}: {{title}}",
      tone: "warning",
      lead: "{{message}}",
      rows: [
        ["Device", "{{device}}"],
        ["Area", "{{area}}"],
        ["Location", "{{location}}"],
        ["Value", EN_VALUE],
        ["Level", "{{level}}"],
        ["Since", "{{since}}"],
      ],
      link: "Status page",
    },
    escalate: {
      subject: "[{{level}}] Escalated to alarm: {{title}} on {{device}}",
      heading: "Escalated to alarm: {{title}}",
      tone: "warning",
      lead: "{{message}}",
      rows: [
        ["Device", "{{device}}"],
        ["Area", "{{area}}"],
        ["Location", "{{location}}"],
        ["Value", EN_VALUE],
        ["Level", "{{level}}"],
        ["Since", "{{since}}"],
        ["Active for", "{{duration}}"],
      ],
      link: "Status page",
    },
    recover: {
      subject: "[Recovered] {{title}} on {{device}}",
      heading: "Recovered: {{title}}",
      tone: "info",
      lead: "{{title}} on {{device}} recovered after {{duration}}.",
      rows: [
        ["Device", "{{device}}"],
        ["Area", "{{area}}"],
        ["Location", "{{location}}"],
        ["Level", "{{level}}"],
        ["Since", "{{since}}"],
        ["Recovered", "{{resolved}}"],
      ],
      link: "Status page",
    },
    test: {
      subject: "edge-agent test message {{gateway}}",
      heading: "Test message",
      tone: "comment",
      lead: "This is a test message from edge-agent {{gateway}} through the {{channel}} channel. No action is needed.",
      rows: [["Sent", "{{now}}"]],
      link: "Status page",
    },
  },
  zh: {
    raise: {
      subject: "【{{level}}】{{status}}：{{title}}（{{device}}）",
      heading: "{{status}}：{{title}}",
      tone: "warning",
      lead: "{{message}}",
      rows: [
        ["设备", "{{device}}"],
        ["区域", "{{area}}"],
        ["位置", "{{location}}"],
        ["数值", ZH_VALUE],
        ["级别", "{{level}}"],
        ["开始时间", "{{since}}"],
      ],
      link: "状态页面",
    },
    escalate: {
      subject: "【{{level}}】升级为告警：{{title}}（{{device}}）",
      heading: "升级为告警：{{title}}",
      tone: "warning",
      lead: "{{message}}",
      rows: [
        ["设备", "{{device}}"],
        ["区域", "{{area}}"],
        ["位置", "{{location}}"],
        ["数值", ZH_VALUE],
        ["级别", "{{level}}"],
        ["开始时间", "{{since}}"],
        ["已持续", "{{duration}}"],
      ],
      link: "状态页面",
    },
    recover: {
      subject: "【已恢复】{{title}}（{{device}}）",
      heading: "已恢复：{{title}}",
      tone: "info",
      lead: "{{device}} 的 {{title}} 已恢复，持续 {{duration}}。",
      rows: [
        ["设备", "{{device}}"],
        ["区域", "{{area}}"],
        ["位置", "{{location}}"],
        ["级别", "{{level}}"],
        ["开始时间", "{{since}}"],
        ["恢复时间", "{{resolved}}"],
      ],
      link: "状态页面",
    },
    test: {
      subject: "edge-agent 测试消息 {{gateway}}",
      heading: "测试消息",
      tone: "comment",
      lead: "这是 edge-agent {{gateway}} 通过 {{channel}} 渠道发送的测试消息，无需处理。",
      rows: [["发送时间", "{{now}}"]],
      link: "状态页面",
    },
  },
};

const HTML_COLOR = { warning: "#c0392b", info: "#1e8449", comment: "#555555" } as const;
const SEP: Record<ShippedLang, string> = { en: ": ", zh: "：" };

function build(lang: ShippedLang, d: Description, part: TemplatePart): string {
  const sep = SEP[lang];
  switch (part) {
    case "subject":
      return d.subject;
    case "text":
      return [d.heading, d.lead, "", ...d.rows.map(([l, v]) => `${l}${sep}${v}`), `${d.link}${sep}{{link}}`].join("\n");
    case "markdown":
      return [
        `**<font color="${d.tone}">${d.heading}</font>**`,
        d.lead,
        ...d.rows.map(([l, v]) => `> ${l}${sep}${v}`),
        `[${d.link}]({{link}})`,
      ].join("\n");
    case "html":
      return [
        `<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">`,
        `<h2 style="margin:0 0 8px;color:${HTML_COLOR[d.tone]}">${d.heading}</h2>`,
        `<p style="margin:0 0 12px">${d.lead}</p>`,
        `<table style="border-collapse:collapse">`,
        ...d.rows.map(
          ([l, v]) =>
            `<tr><td style="padding:2px 16px 2px 0;color:#666">${l}</td><td style="padding:2px 0">${v}</td></tr>`,
        ),
        "</table>",
        `<p style="margin:12px 0 0"><a href="{{link}}">${d.link}</a></p>`,
        "</div>",
      ].join("\n");
  }
}

/** The shipped template text (what a site copies to start its own file). */
export function shippedTemplateText(transition: NotifyTransition, lang: ShippedLang, part: TemplatePart): string {
  return build(lang, DESCRIPTIONS[lang][transition], part);
}

const compiled = new Map<string, CompiledTemplate>();

/** The shipped template, compiled once; English for a language the agent does not ship. */
export function shippedTemplate(transition: NotifyTransition, lang: string, part: TemplatePart): CompiledTemplate {
  const l: ShippedLang = lang === "zh" ? "zh" : "en";
  const key = `${transition}.${l}.${part}`;
  let t = compiled.get(key);
  if (t === undefined) {
    t = compileTemplate(shippedTemplateText(transition, l, part), "shipped");
    compiled.set(key, t);
  }
  return t;
}
