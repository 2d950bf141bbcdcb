// Hooks and quotas in a real pipeline run: Pipeline → rules → AlarmService (SQLite, outbox in the same
// transaction) with the HookManager as alarm interceptor and bus observer, and the QuotaTracker as a
// reading observer. Misbehaving hooks (throwing, hanging, slow) are loaded alongside and must not
// change what ingestion and the alarm path do.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AlarmService } from "../../../src/alarms/service.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import type { CompiledRule, RuleEngine } from "../../../src/core/ports.js";
import type { Reading } from "../../../src/core/types.js";
import { Pipeline } from "../../../src/pipeline/ingest.js";
import { QuotaTracker } from "../../../src/quotas/tracker.js";
import { OutboxWriter } from "../../../src/store/outbox-writer.js";
import { harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

const overvoltage: CompiledRule = {
  def: {
    id: "meter-overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    key: "meter",
    type: "rule",
    fact: "voltage",
    level: 4,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
  },
  file: "rules/overvoltage.json",
  level: (f) => (typeof f.voltage === "number" && f.voltage > 250 ? 2 : 0),
};
const rules: RuleEngine = {
  evaluate(reading, facts, onResult) {
    if (reading.product === "meter" && "voltage" in reading.values) onResult(overvoltage, overvoltage.level(facts));
  },
  rules: () => [overvoltage],
  problems: () => [],
};

type Ev = [string, ...unknown[]];
const g = globalThis as unknown as { __pl: Ev[] };

test("every hook point fires from the pipeline with the right arguments; bad hooks change nothing", async () => {
  g.__pl = [];
  const h = harness({ clock: systemClock, hooksConfig: { timeoutMs: 300, queueSize: 150 } });
  h.write(
    "10-recorder.mjs",
    `export default {
      onReading(r, d) { globalThis.__pl.push(['reading', r.deviceId, r.values.voltage ?? r.values.energy_kwh, d.values.voltage]); },
      onAlarmCreated(a, d, rule) { globalThis.__pl.push(['created', a.ruleId, a.title, a.status, d.id, rule.id]); },
      onAlarmResolved(a, d) { globalThis.__pl.push(['resolved', a.ruleId, a.status, d.id]); },
      onDeviceStatusChanged(d, o, n) { globalThis.__pl.push(['status', d.id, o, n]); },
      onQuotaExceeded(q, u) { globalThis.__pl.push(['quota', q.id, u.crossed, u.usage]); },
    };`,
  );
  h.write(
    "20-gate.mjs",
    `export default { beforeAlarm(a, d) { if (d.id === 'meter-02') return null; return { ...a, title: a.title + ' (site A)' }; } };`,
  );
  h.write(
    "30-throws.mjs",
    "export default { onReading() { throw new Error('bad hook'); }, beforeAlarm() { throw new Error('bad interceptor'); } };",
  );
  h.write(
    "40-hangs.mjs",
    "export default { onAlarmCreated() { return new Promise(() => {}); }, onReading() { return new Promise(() => {}); } };",
  );
  h.write("50-slow.mjs", "export default { async onReading() { await new Promise((r) => setTimeout(r, 20)); } };");

  const writer = new OutboxWriter({ db: h.db });
  const alarms = new AlarmService({
    db: h.db,
    clock: systemClock,
    log: silentLogger(),
    events: h.events,
    metrics: h.metrics,
    changeSink: writer,
    interceptor: h.manager,
    devices: h.devices,
  });
  const quotas = new QuotaTracker({
    quotas: [{ id: "m1-daily", device: "meter-01", metric: "energy_kwh", period: "day", limit: 10, warnAt: 0.5 }],
    db: h.db,
    clock: systemClock,
    log: silentLogger(),
    events: h.events,
    alarms,
    devices: h.devices,
  });
  const pipeline = new Pipeline({
    devices: h.devices,
    rules,
    events: h.events,
    log: silentLogger(),
    metrics: h.metrics,
    alarms,
    observers: [quotas],
  });
  await alarms.start();
  await h.manager.start();
  await quotas.start();
  try {
    const now = Date.now();
    const r = (deviceId: string, values: Reading["values"], dt = 0): Reading => ({
      deviceId,
      product: "meter",
      ts: now + dt,
      values,
      source: "mqtt",
    });
    pipeline.ingest(r("meter-01", { voltage: 230 }));
    pipeline.ingest(r("meter-01", { voltage: 260 }, 1));
    pipeline.ingest(r("meter-02", { voltage: 262 }, 2));
    await waitFor(() => g.__pl.some((e) => e[0] === "created"), { what: "onAlarmCreated" });
    // a burst while the bad hooks are busy: every reading is still processed, in order, by the recorder
    for (let i = 0; i < 120; i++) pipeline.ingest(r("meter-03", { voltage: 200 + (i % 40) }, 10 + i));
    await waitFor(() => g.__pl.filter((e) => e[0] === "reading" && e[1] === "meter-03").length === 120);
    for (let i = 120; i < 240; i++) pipeline.ingest(r("meter-03", { voltage: 200 + (i % 40) }, 10 + i));
    pipeline.ingest(r("meter-01", { voltage: 231 }, 400));
    pipeline.ingest(r("meter-01", { energy_kwh: 100 }, 401));
    pipeline.ingest(r("meter-01", { energy_kwh: 106 }, 402));
    pipeline.ingest(r("meter-01", { energy_kwh: 111 }, 403));
    pipeline.setReachable("meter-01", false);
    await waitFor(
      () => g.__pl.some((e) => e[0] === "resolved") && g.__pl.filter((e) => e[0] === "quota").length === 2,
      {
        what: `resolve and quota events (got ${JSON.stringify(g.__pl.filter((e) => e[0] !== "reading"))})`,
      },
    );
    await alarms.flush();

    const created = g.__pl.filter((e) => e[0] === "created");
    assert.deepEqual(created[0], [
      "created",
      "meter-overvoltage",
      "Over-voltage on incomer (site A)",
      2,
      "meter-01",
      "meter-overvoltage",
    ]);
    assert.equal(created.filter((e) => e[4] === "meter-02").length, 0, "suppressed by beforeAlarm");
    assert.deepEqual(
      g.__pl.find((e) => e[0] === "resolved"),
      ["resolved", "meter-overvoltage", 0, "meter-01"],
    );
    assert.deepEqual(
      g.__pl.filter((e) => e[0] === "quota"),
      [
        ["quota", "m1-daily", "warn", 6],
        ["quota", "m1-daily", "limit", 11],
      ],
    );
    assert.ok(g.__pl.some((e) => e[0] === "status" && e[1] === "meter-01" && e[3] === "offline"));
    const readings = g.__pl.filter((e) => e[0] === "reading" && e[1] === "meter-03").map((e) => e[2]);
    assert.deepEqual(
      readings,
      Array.from({ length: 240 }, (_, i) => 200 + (i % 40)),
      "order kept, nothing lost for a fast hook",
    );
    const first = g.__pl.find((e) => e[0] === "reading");
    assert.deepEqual(first, ["reading", "meter-01", 230, 230]);

    // what was persisted: the modified alarm for meter-01, nothing for meter-02, the quota alarm at level 2
    const rows = h.db.prepare("SELECT rule_id, device_id, status, doc FROM alarms ORDER BY created").all() as {
      rule_id: string;
      device_id: string;
      status: number;
      doc: string;
    }[];
    assert.deepEqual(
      rows.map((x) => [x.rule_id, x.device_id, x.status]),
      [
        ["meter-overvoltage", "meter-01", 0],
        ["quota:m1-daily", "meter-01", 2],
      ],
    );
    assert.equal(JSON.parse(rows[0]?.doc ?? "{}").title, "Over-voltage on incomer (site A)");
    const quotaAlarm = JSON.parse(rows[1]?.doc ?? "{}");
    assert.equal(quotaAlarm.title, "Energy quota m1-daily (site A)");
    assert.equal(quotaAlarm.name, "quota-m1-daily");

    await waitFor(() => (h.manager.list().find((i) => i.name === "40-hangs")?.timeouts ?? 0) >= 1, {
      what: "the hanging hook timed out",
    });
    const info = Object.fromEntries(h.manager.list().map((i) => [i.name, i]));
    assert.ok((info["30-throws"]?.errors ?? 0) >= 240, "the throwing hook is counted per call");
    assert.ok((info["40-hangs"]?.timeouts ?? 0) >= 1, "the hanging hook is abandoned");
    assert.ok((info["50-slow"]?.dropped ?? 0) > 0, "the slow hook overflows its queue and it is counted");
    assert.equal(info["10-recorder"]?.dropped, 0);
  } finally {
    await quotas.stop();
    await h.manager.stop();
    await alarms.stop();
    await h.close();
  }
});
