import assert from "node:assert/strict";
import { test } from "node:test";
import type { Alarm, DeviceState } from "../../../src/core/types.js";
import { formatDuration, renderMessage } from "../../../src/notify/render.js";

// 2026-11-29 14:03:15 UTC is 22:03:15 in Shanghai and 09:03:15 in New York.
const CREATED = Date.UTC(2026, 10, 29, 14, 3, 15);

function alarm(over: Partial<Alarm> = {}): Alarm {
  return {
    id: "a-1",
    ruleId: "r-1",
    name: "meterOvervoltage",
    title: "Over-voltage",
    message: "voltage 253.1 > 250 (Over-voltage)",
    type: "rule",
    level: 4,
    status: 2,
    resource: { id: "meter-01", name: "Incomer 1", product: "meter", areaId: 7 },
    location: { name: "Substation B, room 2" },
    details: {
      facts: { voltage: 253.1 },
      thresholds: [{ fact: "voltage", operator: "greaterThan", value: 250 }],
      held: [{ fact: "voltage", operator: "greaterThan", threshold: 250, actual: 253.1 }],
      levelReached: 2,
      for: 0,
    },
    period: 0,
    created: CREATED,
    updated: CREATED,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
    ...over,
  };
}

const device: DeviceState = {
  id: "meter-01",
  product: "meter",
  name: "Incomer 1",
  status: "alarm",
  lastSeen: CREATED,
  values: { voltage: 253.1 },
  source: "mqtt",
};

const base = {
  transition: "raise" as const,
  channel: "email" as const,
  to: "ops@example.com",
  device,
  timezone: "Asia/Shanghai",
  now: CREATED + 60_000,
};

const { device: _device, ...withoutDevice } = base;

test("en raise: subject, value against threshold, local time of the site, link", () => {
  const m = renderMessage({ ...base, alarm: alarm(), lang: "en", statusPageUrl: "http://gw.local:8080/" });
  assert.equal(m.subject, "[critical] Alarm: Over-voltage on Incomer 1 (meter-01)");
  assert.equal(m.channel, "email");
  assert.equal(m.to, "ops@example.com");
  assert.equal(m.transition, "raise");
  assert.equal(m.alarm?.id, "a-1");
  const lines = m.text.split("\n");
  assert.equal(lines[0], "Alarm: Over-voltage");
  assert.ok(lines.includes("Device: Incomer 1 (meter-01)"), m.text);
  assert.ok(lines.includes("Area: 7"), m.text);
  assert.ok(lines.includes("Location: Substation B, room 2"), m.text);
  assert.ok(lines.includes("Value: voltage = 253.1 (threshold > 250)"), m.text);
  assert.ok(lines.includes("Level: critical"), m.text);
  assert.ok(lines.includes("Since: 2026-11-29 22:03:15"), m.text);
  assert.ok(lines.includes("Status page: http://gw.local:8080/"), m.text);
  assert.match(m.html ?? "", /<a href="http:\/\/gw.local:8080\/">Status page<\/a>/);
  assert.match(m.html ?? "", /<td[^>]*>2026-11-29 22:03:15<\/td>/);
});

test("zh raise: Chinese labels, level and status names, same local time", () => {
  const m = renderMessage({ ...base, alarm: alarm({ status: 1, level: 3 }), lang: "zh" });
  assert.equal(m.subject, "【警告】预警：Over-voltage（Incomer 1 (meter-01)）");
  assert.equal(m.lang, "zh");
  const lines = m.text.split("\n");
  assert.equal(lines[0], "预警：Over-voltage");
  assert.ok(lines.includes("数值：voltage = 253.1（阈值 > 250）"), m.text);
  assert.ok(lines.includes("开始时间：2026-11-29 22:03:15"), m.text);
  assert.ok(lines.includes("级别：警告"), m.text);
});

test("times follow the configured time zone", () => {
  const m = renderMessage({ ...base, alarm: alarm(), lang: "en", timezone: "America/New_York" });
  assert.ok(m.text.split("\n").includes("Since: 2026-11-29 09:03:15"), m.text);
});

test("lines whose placeholders are all empty are left out (no link, no area, no location)", () => {
  const a = alarm({ resource: { id: "meter-01", product: "meter" }, location: null });
  const m = renderMessage({ ...withoutDevice, alarm: a, lang: "en" });
  assert.doesNotMatch(m.text, /Status page|Area:|Location:/);
  assert.doesNotMatch(m.html ?? "", /<a href|>Area<|>Location</);
  assert.ok(m.text.split("\n").includes("Device: meter-01"), m.text);
});

test("HTML body escapes what devices and rules wrote; plain text keeps it as is", () => {
  const a = alarm({
    title: '<script>alert("x")</script>',
    message: "<img src=x onerror=alert(1)> & more",
    resource: { id: "meter-01", name: 'A&B "north"', product: "meter" },
  });
  const m = renderMessage({ ...withoutDevice, alarm: a, lang: "en" });
  const html = m.html ?? "";
  assert.doesNotMatch(html, /<script|<img/);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt; &amp; more/);
  assert.match(html, /A&amp;B &quot;north&quot; \(meter-01\)/);
  assert.match(m.text, /<script>alert\("x"\)<\/script>/);
});

test("robot markdown: mentions and font tags from alarm text are neutralised; only email and hook channels get HTML", () => {
  const a = alarm({ title: "Door <@all> open", message: '<font color="info">fine</font>' });
  const robot = renderMessage({ ...base, channel: "robot", to: "key", alarm: a, lang: "en" });
  assert.equal(robot.html, undefined);
  assert.match(robot.text, /^\*\*<font color="warning">Alarm: Door ＜@all> open<\/font>\*\*/);
  assert.doesNotMatch(robot.text, /<@all>|<font color="info">/);
  assert.match(robot.text, /^> Device: Incomer 1 \(meter-01\)$/m);
  const wecom = renderMessage({ ...base, channel: "wecom", to: "zhangsan", alarm: a, lang: "en" });
  assert.equal(wecom.html, undefined);
  assert.match(wecom.text, /^Alarm: Door <@all> open$/m);
  const hook = renderMessage({ ...base, channel: "channel:sms", to: "+8613800000000", alarm: a, lang: "en" });
  assert.ok(hook.html !== undefined);
});

test("recover: how long the alarm lasted, in both languages", () => {
  const a = alarm({ status: 0, resolvedAt: CREATED + 12 * 60_000 + 30_000 });
  const en = renderMessage({ ...base, transition: "recover", alarm: a, lang: "en", now: CREATED + 20 * 60_000 });
  assert.match(en.text, /Over-voltage on Incomer 1 \(meter-01\) recovered after 12 min\./);
  assert.equal(en.subject, "[Recovered] Over-voltage on Incomer 1 (meter-01)");
  assert.ok(en.text.split("\n").includes("Recovered: 2026-11-29 22:15:45"), en.text);
  const zh = renderMessage({ ...base, transition: "recover", alarm: a, lang: "zh", now: CREATED + 20 * 60_000 });
  assert.match(zh.text, /已恢复，持续 12 分钟/);
});

test("escalate: the time active so far", () => {
  const m = renderMessage({ ...base, transition: "escalate", alarm: alarm(), lang: "en", now: CREATED + 125 * 60_000 });
  assert.match(m.subject, /^\[critical\] Escalated to alarm: Over-voltage/);
  assert.ok(m.text.split("\n").includes("Active for: 2 h 5 min"), m.text);
});

test("value and threshold from the rule's thresholds when no leaf was recorded as held", () => {
  const a = alarm({
    details: {
      facts: { temp: 81.25, limit: 80 },
      thresholds: [{ fact: "temp", operator: "greaterThanInclusive", value: { fact: "limit" } }],
    },
  });
  const m = renderMessage({ ...base, alarm: a, lang: "en" });
  assert.ok(m.text.split("\n").includes("Value: temp = 81.25 (threshold ≥ 80)"), m.text);
});

test("test message: no alarm, the gateway and channel named", () => {
  const m = renderMessage({
    transition: "test",
    channel: "wecom",
    to: "zhangsan",
    lang: "en",
    timezone: "Asia/Shanghai",
    now: CREATED,
    gateway: "gw-07",
  });
  assert.equal(m.subject, "edge-agent test message gw-07");
  assert.match(m.text, /from edge-agent gw-07 through the wecom channel/);
  assert.ok(m.text.split("\n").includes("Sent: 2026-11-29 22:03:15"), m.text);
  assert.equal(m.alarm, undefined);
});

test("durations", () => {
  assert.equal(formatDuration(45_000, "en"), "45 s");
  assert.equal(formatDuration(12 * 60_000 + 59_000, "en"), "12 min");
  assert.equal(formatDuration(12 * 60_000, "zh"), "12 分钟");
  assert.equal(formatDuration(3 * 3_600_000, "en"), "3 h");
  assert.equal(formatDuration(26 * 3_600_000 + 60_000, "zh"), "1 天 2 小时");
});
