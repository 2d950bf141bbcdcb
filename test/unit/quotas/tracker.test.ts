// Local time is Europe/Berlin for these tests (set before any Date is built), so "midnight" and
// "month end" are local boundaries, not UTC ones.
process.env.TZ = "Europe/Berlin";

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { nextPeriodStart, periodStart } from "../../../src/quotas/period.js";
import { type QuotaHarness, quotaHarness, usageRows } from "../../fixtures/hooks/quota-harness.js";

const local = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();
const daily = {
  id: "meter-01-daily",
  device: "meter-01",
  metric: "energy_kwh",
  period: "day" as const,
  limit: 100,
  warnAt: 0.9,
};
const monthly = {
  id: "meter-01-monthly",
  device: "meter-01",
  metric: "energy_kwh",
  period: "month" as const,
  limit: 1000,
  level: 4,
};

let h: QuotaHarness;
afterEach(async () => {
  await h?.tracker.stop();
  h?.close();
});

test("periods are local calendar days and months (a DST day is 23 h)", () => {
  const ts = local(2026, 3, 29, 12);
  assert.equal(periodStart(ts, "day"), local(2026, 3, 29));
  assert.equal(nextPeriodStart(local(2026, 3, 29), "day") - local(2026, 3, 29), 23 * 3600_000);
  assert.equal(periodStart(ts, "month"), local(2026, 3, 1));
  assert.equal(nextPeriodStart(local(2026, 12, 1), "month"), local(2027, 1, 1));
  assert.notEqual(periodStart(local(2026, 1, 1, 0, 30), "day"), Date.UTC(2026, 0, 1), "not a UTC day");
});

test("usage is the sum of increases; warnAt and limit raise level 1 then 2, each crossing fires once", async () => {
  h = quotaHarness([daily], local(2026, 5, 10, 8));
  await h.tracker.start();
  h.feed(local(2026, 5, 10, 8), 1000); // baseline, not usage
  h.feed(local(2026, 5, 10, 9), 1050);
  assert.equal(h.exceeded.length, 0);
  h.feed(local(2026, 5, 10, 10), 1089.9);
  assert.equal(h.exceeded.length, 0);
  h.feed(local(2026, 5, 10, 11), "1090"); // uint64 counters arrive as decimal strings
  assert.equal(h.exceeded.length, 1);
  assert.deepEqual(h.exceeded[0]?.[1], {
    quotaId: "meter-01-daily",
    periodStart: local(2026, 5, 10),
    usage: 90,
    limit: 100,
    ratio: 0.9,
    crossed: "warn",
  });
  h.feed(local(2026, 5, 10, 12), 1095);
  h.feed(local(2026, 5, 10, 13), 1101);
  h.feed(local(2026, 5, 10, 14), 1150);
  assert.deepEqual(
    h.exceeded.map(([q, u]) => [q.id, u.crossed, u.usage]),
    [
      ["meter-01-daily", "warn", 90],
      ["meter-01-daily", "limit", 101],
    ],
  );
  assert.deepEqual(
    h.levels.map(([id, l]) => [id, l]),
    [
      ["quota:meter-01-daily", 1],
      ["quota:meter-01-daily", 2],
    ],
  );
  const rule = h.rules[0];
  assert.equal(rule?.def.name, "quota-meter-01-daily");
  assert.equal(rule?.def.key, "meter");
  assert.equal(rule?.def.level, 3);
  assert.equal(rule?.def.title, "Energy quota meter-01-daily");
  assert.equal(rule?.level({}), 2);
});

test("a counter that goes backwards is a reset: rebased, never negative usage", async () => {
  h = quotaHarness([daily], local(2026, 5, 10, 8));
  await h.tracker.start();
  h.feed(local(2026, 5, 10, 8), 100);
  h.feed(local(2026, 5, 10, 9), 150); // +50
  h.feed(local(2026, 5, 10, 10), 5); // reset (or rollover): new baseline
  h.feed(local(2026, 5, 10, 11), 20); // +15
  h.feed(local(2026, 5, 10, 10, 30), 1_000_000); // older than the baseline: ignored
  assert.equal(h.tracker.snapshot()[0]?.usage, 65);
  assert.equal(h.exceeded.length, 0);
});

test("across local midnight: the increase over the gap is split by time; the new day resolves the alarm", async () => {
  h = quotaHarness([daily], local(2026, 5, 10, 20));
  await h.tracker.start();
  h.feed(local(2026, 5, 10, 20), 0);
  h.feed(local(2026, 5, 10, 22), 95); // pre-warning
  assert.deepEqual(h.levels.at(-1)?.slice(0, 2), ["quota:meter-01-daily", 1]);
  h.feed(local(2026, 5, 11, 2), 115); // 4 h gap, 2 h each side of midnight: 10 + 10
  h.tracker.flush();
  assert.deepEqual(usageRows(h.db, "meter-01-daily"), [
    { period_start: local(2026, 5, 10), usage: 105, crossed: 2 },
    { period_start: local(2026, 5, 11), usage: 10, crossed: 0 },
  ]);
  assert.deepEqual(
    h.levels.map(([, l]) => l),
    [1, 2, 0],
    "the old day's share escalated it, then the new period resolved it",
  );
});

test("a silent meter: the period boundary alone resolves the alarm", async () => {
  h = quotaHarness([daily], local(2026, 5, 10, 20));
  await h.tracker.start();
  h.feed(local(2026, 5, 10, 20), 0);
  h.feed(local(2026, 5, 10, 21), 120);
  assert.equal(h.levels.at(-1)?.[1], 2);
  h.clock.advance(4 * 3600_000 + 30_000); // past midnight, one tick later
  assert.equal(h.levels.at(-1)?.[1], 0);
  assert.equal(h.tracker.snapshot()[0]?.periodStart, local(2026, 5, 11));
  assert.equal(h.tracker.snapshot()[0]?.usage, 0);
});

test("month end: a monthly quota splits across the boundary and a gap over several days is spread by time", async () => {
  h = quotaHarness([monthly, daily], local(2026, 1, 31, 23));
  await h.tracker.start();
  h.feed(local(2026, 1, 31, 23), 0);
  h.feed(local(2026, 2, 1, 1), 40); // 1 h in January, 1 h in February
  h.feed(local(2026, 2, 4, 1), 40 + 72); // 3 days offline: 24 per day, not a spike on the 4th
  h.tracker.flush();
  assert.deepEqual(usageRows(h.db, "meter-01-monthly"), [
    { period_start: local(2026, 1, 1), usage: 20, crossed: 0 },
    { period_start: local(2026, 2, 1), usage: 92, crossed: 0 },
  ]);
  assert.deepEqual(
    usageRows(h.db, "meter-01-daily").map((r) => [
      new Date(r.period_start).getDate(),
      Math.round(r.usage * 1000) / 1000,
    ]),
    [
      [31, 20],
      [1, 20 + 23],
      [2, 24],
      [3, 24],
      [4, 1],
    ],
  );
  assert.equal(h.exceeded.length, 0);
});
