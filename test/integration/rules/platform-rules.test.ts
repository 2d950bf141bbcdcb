// A rule file exported from the platform (seed 003's rule object: no id, no level, `interval` as a
// named period, recipient, description, created/updated, email/wechat/webhook actions, a level by
// name) dropped into rules/ loads as it is and raises alarms through the real loader, pipeline and
// alarm service into SQLite.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { Pipeline } from "../../../src/pipeline/ingest.js";
import { RulesLoader } from "../../../src/rules/loader.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { testMetrics } from "../../helpers/harness.js";
import { rig, tempDir } from "../alarms/setup.js";

/** As the platform exports them: the server's fields included, no id of the agent's, no level on the first. */
const PLATFORM_EXPORT = JSON.parse(
  readFileSync(new URL("../../fixtures/rules/platform-export.json", import.meta.url), "utf8"),
) as Record<string, unknown>[];

test("a platform export in rules/ loads without edits and raises alarms through the pipeline", async () => {
  const t = tempDir();
  const rulesDir = join(t.dir, "rules");
  await mkdir(rulesDir);
  await writeFile(join(rulesDir, "pumps.json"), JSON.stringify(PLATFORM_EXPORT, null, 2));
  await writeFile(
    join(rulesDir, "leak.json"),
    JSON.stringify({
      name: "pump-leak",
      title: "Seal leak",
      key: "pump",
      level: "fatal",
      period: "OFF",
      conditions: { all: [{ fact: "leak", operator: "equal", value: true }] },
    }),
  );
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 10));
  const r = await rig(join(t.dir, "agent.db"), { clock });
  const devices = new DeviceRegistry({ events: r.events });
  const log = silentLogger();
  const set = new RuleSet({ tzOffsetMs: () => 0 });
  const loader = new RulesLoader({ dir: rulesDir, ruleSet: set, log, clock, events: r.events, watch: false });
  try {
    await loader.start();
    const problems = set.problems();
    assert.deepEqual(
      problems.filter((p) => p.severity !== "warning"),
      [],
      "no errors",
    );
    assert.deepEqual(problems.map((p) => `${p.path}: ${p.severity}`).sort(), ["$.name: warning"]);
    const defs = Object.fromEntries(set.rules().map((x) => [x.def.id, x.def]));
    assert.deepEqual(Object.keys(defs).sort(), ["leak", "pumps.pumpDry", "pumps.pumpOverheat"]);
    const hot = defs["pumps.pumpOverheat"];
    assert.equal(hot?.level, 2, "default level");
    assert.equal(hot?.period, 3600, "interval ONCE_AN_HOUR");
    assert.equal(hot?.recipient, "65a1f0c2e4b0a1a2b3c4d5e6");
    assert.equal(hot?.actions?.email, "ops@example.com");
    assert.equal(defs["pumps.pumpDry"]?.level, 4);
    assert.equal(defs["pumps.pumpDry"]?.period, 600);
    assert.equal(defs.leak?.level, 5);
    assert.equal(defs.leak?.off, true);

    const pipeline = new Pipeline({
      devices,
      rules: set,
      events: r.events,
      log,
      metrics: testMetrics(),
      alarms: r.svc,
    });
    pipeline.ingest({
      deviceId: "pump-7",
      product: "pump",
      ts: clock.now(),
      values: { temperature: 96.5, flow: 0.2 },
      source: "mqtt",
    });
    await r.svc.flush();
    const raised = r.alarms
      .active()
      .map((a) => `${a.ruleId}@${a.resource.id}:${a.status}/${a.level}/${a.period}`)
      .sort();
    assert.deepEqual(raised, ["pumps.pumpDry@pump-7:2/4/600", "pumps.pumpOverheat@pump-7:2/2/3600"]);
  } finally {
    await loader.stop();
    await r.close();
    t.cleanup();
  }
});
