// The KPI cache in front of the hooks: each period kept for its natural refresh, computed anew when
// the local period changes (config.timezone) or the hooks change; one computation per period at a time.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { KpiCache } from "../../../src/hooks/kpi-cache.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";

const g = globalThis as unknown as Record<string, unknown>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const COUNTING_HOOK = `export default {
  kpis(period) {
    globalThis.__kpiCalls[period] = (globalThis.__kpiCalls[period] ?? 0) + 1;
    return { calls: globalThis.__kpiCalls[period], [period + '_kwh']: 1 };
  },
};`;

function calls(): Record<string, number> {
  return g.__kpiCalls as Record<string, number>;
}

async function setup(startUtc: number): Promise<{ clock: ManualClock; cache: KpiCache }> {
  const clock = new ManualClock(startUtc);
  h = harness({ clock });
  g.__kpiCalls = {};
  h.write("kpi.mjs", COUNTING_HOOK);
  await h.manager.start();
  return { clock, cache: new KpiCache({ source: h.manager, clock, timezone: "Europe/Prague" }) };
}

test("each period is asked of the hooks by name and kept for its refresh: today 1 min, month 1 h, year 1 day", async () => {
  // 2026-06-10 12:00 in Prague
  const { clock, cache } = await setup(Date.UTC(2026, 5, 10, 10));
  assert.deepEqual(await cache.kpis("today"), { calls: 1, today_kwh: 1 });
  assert.deepEqual(await cache.kpis("month"), { calls: 1, month_kwh: 1 });
  assert.deepEqual(await cache.kpis("year"), { calls: 1, year_kwh: 1 });
  // a heartbeat every 30 s for 3 hours asks for all three each time
  for (let i = 0; i < 360; i++) {
    clock.advance(30_000);
    await Promise.all([cache.kpis("today"), cache.kpis("month"), cache.kpis("year")]);
  }
  assert.equal(calls().year, 1, "the year is not recomputed for every heartbeat");
  assert.equal(calls().month, 4, "the month once an hour");
  assert.ok(calls().today >= 180 && calls().today <= 181, `today about once a minute (${calls().today})`);
  clock.advance(86_400_000 - 3 * 3_600_000);
  await cache.kpis("year");
  assert.equal(calls().year, 2, "the year after a day");
});

test("a new local day, month or year (config.timezone) is computed at once, not at the end of the cache period", async () => {
  // 2026-12-31 23:58 in Prague (22:58 UTC): the local year ends in two minutes
  const { clock, cache } = await setup(Date.UTC(2026, 11, 31, 22, 58));
  await Promise.all([cache.kpis("today"), cache.kpis("month"), cache.kpis("year")]);
  clock.advance(60_000); // 23:59 local: still the old year
  await cache.kpis("year");
  assert.equal(calls().year, 1);
  clock.advance(60_000); // 00:00 local, 2027 (still 2026 in UTC)
  await Promise.all([cache.kpis("month"), cache.kpis("year")]);
  assert.equal(calls().year, 2, "recomputed when the local year changed");
  assert.equal(calls().month, 2, "recomputed when the local month changed");
  await cache.kpis("year");
  assert.equal(calls().year, 2, "and kept again after that");
});

test("a reloaded hook set is asked anew; concurrent askers share one computation; a failure is not kept", async () => {
  const { cache } = await setup(Date.UTC(2026, 5, 10, 10));
  const [a, b] = await Promise.all([cache.kpis("year"), cache.kpis("year")]);
  assert.deepEqual(a, b);
  assert.equal(calls().year, 1, "two askers, one call");
  h?.write("extra.mjs", "export default { kpis() { return { extra: 7 }; } };");
  await h?.manager.rescan();
  assert.deepEqual(await cache.kpis("year"), { calls: 2, year_kwh: 1, extra: 7 }, "the new hook's KPIs appear at once");

  let fail = true;
  const clock = new ManualClock();
  const flaky = new KpiCache({
    source: {
      kpis: async () => {
        if (fail) throw new Error("boom");
        return { ok: 1 };
      },
    },
    clock,
    timezone: "UTC",
  });
  await assert.rejects(flaky.kpis("today"), /boom/);
  fail = false;
  assert.deepEqual(await flaky.kpis("today"), { ok: 1 });
});
