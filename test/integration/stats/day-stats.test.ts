// Daily statistics in the running agent: readings through the pipeline, a restart in the evening,
// then at local midnight a hook's onDayClosed gets min/max/avg/count per device and metric and the
// quota's usage of the day, the rows are in day_stats, and GET /stats/day answers them over HTTP;
// /status shows the hooks' KPIs of every period.
process.env.TZ = "Europe/Prague";

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { type Agent, createAgent } from "../../../src/app.js";
import type { Config } from "../../../src/config/schema.js";
import { ManualClock } from "../../../src/core/clock.js";
import { localMidnight } from "../../../src/core/local-time.js";
import { silentLogger } from "../../../src/core/log.js";
import type { DayStats } from "../../../src/core/ports.js";
import { openDatabase } from "../../../src/store/db.js";
import { resolvedConfig } from "../../helpers/config.js";
import { runStatusPage } from "../../helpers/status-page-runner.js";
import { waitFor } from "../../helpers/wait.js";

const TZ = "Europe/Prague";
const TOKEN = "stats-api-token-0123456789";
const root = mkdtempSync(join(tmpdir(), "ea-stats-agent-"));
after(() => rmSync(root, { recursive: true, force: true }));
const g = globalThis as unknown as { __days: DayStats[] };
g.__days = [];

const hooksDir = join(root, "hooks");
const rulesDir = join(root, "rules");
mkdirSync(hooksDir, { recursive: true });
mkdirSync(rulesDir, { recursive: true });
writeFileSync(
  join(hooksDir, "daily.mjs"),
  `export default {
    onDayClosed(stats, ctx) { globalThis.__days.push(stats); },
    kpis(period) { return { [period + "_kwh"]: period.length }; },
  };`,
);

const config: Config = {
  gatewayId: "gw-stats",
  dataDir: join(root, "data"),
  rulesDir,
  hooksDir,
  timezone: TZ,
  devices: { "meter-01": { product: "meter" }, "meter-02": { product: "meter" } },
  quotas: [{ id: "m1-daily", device: "meter-01", metric: "energy_kwh", period: "day", limit: 1000 }],
  http: { host: "127.0.0.1", port: 0, token: TOKEN },
};

async function startAgent(atUtc: number): Promise<{ agent: Agent; clock: ManualClock }> {
  const clock = new ManualClock(atUtc);
  const agent = createAgent(resolvedConfig(config), { clock, log: silentLogger(), version: "test" });
  await agent.start();
  return { agent, clock };
}

function ingest(agent: Agent, clock: ManualClock, deviceId: string, values: Record<string, number | boolean>): void {
  agent.pipeline.ingest({ deviceId, product: "meter", ts: clock.now(), values, source: "mqtt" });
}

async function advance(clock: ManualClock, ms: number): Promise<void> {
  // In steps, so the agent's periodic work (hook rescans, quota flushes) runs as it would.
  for (let left = ms; left > 0; left -= 60_000) {
    clock.advance(Math.min(60_000, left));
    await new Promise<void>((r) => setImmediate(r));
  }
}

test("a day's readings, across a restart, close at local midnight into onDayClosed, day_stats and GET /stats/day", async () => {
  const midnight = localMidnight(2026, 11, 25, TZ);
  // 23:00 local on 2026-11-24
  const a = await startAgent(midnight - 3_600_000);
  ingest(a.agent, a.clock, "meter-01", { voltage: 229, energy_kwh: 500 });
  await advance(a.clock, 10 * 60_000);
  ingest(a.agent, a.clock, "meter-01", { voltage: 233, energy_kwh: 503, breaker: true });
  ingest(a.agent, a.clock, "meter-02", { temp: 21.5 });
  await a.agent.stop();

  // restarted at 23:30: the evening's accumulators and the quota's usage are kept
  const b = await startAgent(midnight - 30 * 60_000);
  try {
    ingest(b.agent, b.clock, "meter-01", { voltage: 240, energy_kwh: 507.5 });
    await advance(b.clock, 30 * 60_000 - 1);
    assert.equal(g.__days.length, 0, "nothing before local midnight");
    await advance(b.clock, 1);
    await waitFor(() => g.__days.length === 1, { what: "onDayClosed" });
    const expected: DayStats = {
      date: "2026-11-24",
      devices: {
        "meter-01": {
          energy_kwh: { min: 500, max: 507.5, avg: 503.5, count: 3 },
          voltage: { min: 229, max: 240, avg: 234, count: 3 },
        },
        "meter-02": { temp: { min: 21.5, max: 21.5, avg: 21.5, count: 1 } },
      },
      quotas: { "m1-daily": 7.5 },
    };
    assert.deepEqual(g.__days[0], expected);

    const db = openDatabase(join(config.dataDir as string, "edge-agent.db"));
    try {
      const rows = db
        .prepare("SELECT device_id, doc FROM day_stats WHERE date = '2026-11-24' ORDER BY device_id")
        .all() as { device_id: string; doc: string }[];
      assert.deepEqual(
        rows.map((r) => [r.device_id, JSON.parse(r.doc)]),
        [
          ["", { "m1-daily": 7.5 }],
          ["meter-01", expected.devices["meter-01"]],
          ["meter-02", expected.devices["meter-02"]],
        ],
      );
    } finally {
      db.close();
    }

    const port = b.agent.http?.port;
    assert.ok(port);
    const get = async (q: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/stats/day${q}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    assert.deepEqual(await get("?date=2026-11-24"), { status: 200, body: { code: 0, data: expected } });
    assert.deepEqual(await get(""), { status: 200, body: { code: 0, data: expected } }, "latest closed day");
    assert.deepEqual(await get("?date=2026-11-24&did=meter-02"), {
      status: 200,
      body: { code: 0, data: { ...expected, devices: { "meter-02": expected.devices["meter-02"] } } },
    });
    const bad = await get("?date=2026-13-01");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 104001);
    assert.match(String(bad.body.message), /date/);
    const unknown = await get("?date=2026-11-20");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 104004);
    const status = await fetch(`http://127.0.0.1:${port}/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const sb = ((await status.json()) as { data: Record<string, unknown> }).data;
    assert.deepEqual(sb.kpis, { today_kwh: 5 }, "/status keeps today's flat map");
    assert.deepEqual(sb.kpisByPeriod, { today: { today_kwh: 5 }, month: { month_kwh: 5 }, year: { year_kwh: 4 } });
    const page = runStatusPage(`http://127.0.0.1:${port}`, TOKEN);
    try {
      const rows = await waitFor(
        () => {
          const r = page.byId("kpi-rows").children;
          return r.length === 3 ? r : undefined;
        },
        { what: "the status page's KPI rows" },
      );
      assert.deepEqual(
        rows.map((r) => r.children.map((c) => c.textContent)),
        [
          ["month_kwh", "—", "5", "—"],
          ["today_kwh", "5", "—", "—"],
          ["year_kwh", "—", "—", "4"],
        ],
      );
      assert.equal(page.byId("kpis-section").hidden, false);
    } finally {
      page.close();
    }
    const noToken = await fetch(`http://127.0.0.1:${port}/stats/day`);
    assert.equal(noToken.status, 401);
  } finally {
    await b.agent.stop();
  }
});
