import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { systemClock } from "../../../src/core/clock.js";
import type { Alarm } from "../../../src/core/types.js";
import { renderMessage } from "../../../src/notify/render.js";
import { TemplateDir } from "../../../src/notify/template-dir.js";
import {
  SHIPPED_LANGS,
  shippedTemplate,
  shippedTemplateText,
  TEMPLATE_PARTS,
  TRANSITIONS,
} from "../../../src/notify/templates.js";
import { captureLog } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const CREATED = Date.UTC(2026, 10, 29, 14, 3, 15);
const alarm: Alarm = {
  id: "a-1",
  ruleId: "r-1",
  name: "meterOvervoltage",
  title: "Over-voltage",
  message: "voltage 253.1 > 250",
  type: "rule",
  level: 4,
  status: 2,
  resource: { id: "meter-01", product: "meter" },
  location: null,
  details: { held: [{ fact: "voltage", operator: "greaterThan", threshold: 250, actual: 253.1 }] },
  period: 0,
  created: CREATED,
  updated: CREATED,
  resolvedAt: null,
  upstreamId: null,
  workOrderId: null,
};

let dir = "";
let templates: TemplateDir | null = null;
afterEach(() => {
  templates?.stop();
  templates = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

function start(files: Record<string, string>) {
  dir = mkdtempSync(join(tmpdir(), "edge-templates-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const cap = captureLog();
  templates = new TemplateDir({ dir, clock: systemClock, log: cap.log, rescanMs: 60_000 });
  return { cap, templates };
}

const render = (t: TemplateDir, lang: string, channel: "email" | "wecom" = "email") =>
  renderMessage({
    alarm,
    transition: "raise",
    channel,
    to: "x",
    lang,
    timezone: "Asia/Shanghai",
    now: CREATED,
    templates: t,
  });

test("every shipped template uses only known placeholders and says something", () => {
  for (const lang of SHIPPED_LANGS)
    for (const tr of TRANSITIONS)
      for (const part of TEMPLATE_PARTS) {
        const t = shippedTemplate(tr, lang, part);
        assert.deepEqual(t.unknown, [], `${tr}.${lang}.${part}`);
        assert.ok(shippedTemplateText(tr, lang, part).trim().length > 0, `${tr}.${lang}.${part}`);
      }
  // A language the agent does not ship falls back to English.
  assert.equal(shippedTemplate("raise", "de", "text"), shippedTemplate("raise", "en", "text"));
});

test("a site's file wins over the shipped template, part by part and language by language", async () => {
  const { templates: t } = start({
    "raise.zh.text": "告警 {{title}} @ {{device}}，当前 {{value}}，开始 {{since}}",
    "raise.en.subject": "ALARM {{title}}",
  });
  await t.start();
  assert.deepEqual(t.list(), ["raise.en.subject", "raise.zh.text"]);
  const zh = render(t, "zh");
  assert.equal(zh.text, "告警 Over-voltage @ meter-01，当前 253.1，开始 2026-11-29 22:03:15");
  assert.match(zh.subject, /^【严重】告警：Over-voltage/, "zh subject stays shipped");
  const en = render(t, "en");
  assert.equal(en.subject, "ALARM Over-voltage");
  assert.match(en.text, /^Alarm: Over-voltage$/m, "en text stays shipped");
});

test("a known placeholder without a value renders empty; an unknown one is kept and warned about once", async () => {
  const { cap, templates: t } = start({ "raise.en.text": "{{title}} in area [{{area}}] by {{operatorName}}" });
  await t.start();
  assert.equal(render(t, "en").text, "Over-voltage in area [] by {{operatorName}}");
  await t.reload();
  await t.reload();
  const warned = cap.lines.filter((l) => l.placeholder === "operatorName");
  assert.equal(warned.length, 1, JSON.stringify(cap.lines));
  assert.match(warned[0]?.msg ?? "", /unknown placeholder \{\{operatorName\}\}/);
});

test("files with other names are ignored with a warning; a missing directory means shipped templates", async () => {
  const { cap, templates: t } = start({ "README.md": "hi", "raise.en.body": "x", "alarm.en.text": "y" });
  await t.start();
  assert.deepEqual(t.list(), []);
  assert.equal(cap.lines.filter((l) => /not a message template name/.test(l.msg)).length, 3);
  const missing = new TemplateDir({ dir: join(dir, "nope"), clock: systemClock, log: cap.log });
  await missing.start();
  missing.stop();
  assert.ok(cap.lines.some((l) => /directory not readable: shipped templates in use/.test(l.msg)));
  assert.match(render(missing, "en").text, /^Alarm: Over-voltage$/m);
});

test("a file written or changed while running is used for the next message", async () => {
  const { templates: t } = start({});
  await t.start();
  assert.match(render(t, "en", "wecom").text, /^Alarm: Over-voltage$/m);
  writeFileSync(join(dir, "raise.en.text"), "v1 {{title}}");
  await waitFor(() => render(t, "en", "wecom").text === "v1 Over-voltage", { what: "the new file in force" });
  writeFileSync(join(dir, "raise.en.text"), "v2 {{title}}");
  await waitFor(() => render(t, "en", "wecom").text === "v2 Over-voltage", { what: "the changed file in force" });
  rmSync(join(dir, "raise.en.text"));
  await waitFor(() => /^Alarm: Over-voltage$/m.test(render(t, "en", "wecom").text), { what: "back to shipped" });
});
