// Daily statistics over a real SQLite file and a manual clock: accumulation, the close at local
// midnight (also on 23 h and 25 h DST days), restarts within a day and across midnight, retention,
// and the quotas' usage of the day.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import type { EventBus } from "../../../src/core/events.js";
import { localMidnight } from "../../../src/core/local-time.js";
import type { DayStats } from "../../../src/core/ports.js";
import type { Reading } from "../../../src/core/types.js";
import { DayStatistics, type DayStatisticsOptions } from "../../../src/stats/day-stats.js";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { quotaHarness } from "../../fixtures/hooks/quota-harness.js";
import { captureLog, testBus } from "../../helpers/harness.js";

const TZ = "Europe/Prague";
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  clock: ManualClock;
  db: Db;
  events: EventBus;
  closed: DayStats[];
  stats: DayStatistics;
  make(over?: Partial<DayStatisticsOptions>): DayStatistics;
}

function rig(startUtc: number, over: Partial<DayStatisticsOptions> = {}, dir?: string): Rig {
  const root = dir ?? mkdtempSync(join(tmpdir(), "ea-daystats-"));
  const db = openDatabase(join(root, "agent.db"));
  const clock = new ManualClock(startUtc);
  const events = testBus();
  const closed: DayStats[] = [];
  events.on("dayClosed", (s) => closed.push(s));
  const make = (o: Partial<DayStatisticsOptions> = {}) =>
    new DayStatistics({ db, clock, log: captureLog().log, events, timezone: TZ, retentionDays: 400, ...over, ...o });
  cleanups.push(() => {
    db.close();
    if (dir === undefined) rmSync(root, { recursive: true, force: true });
  });
  return { clock, db, events, closed, stats: make(), make };
}

const reading = (deviceId: string, ts: number, values: Reading["values"]): Reading => ({
  deviceId,
  product: "meter",
  ts,
  values,
  source: "mqtt",
});

test("readings over a day: at local midnight the day's min/max/avg/count per device and metric are stored and announced", async () => {
  // 2026-06-10 08:00 in Prague
  const r = rig(Date.UTC(2026, 5, 10, 6));
  await r.stats.start();
  const feed = (d: string, values: Reading["values"]) => r.stats.observe(reading(d, r.clock.now(), values));
  feed("m1", { voltage: 230, current: 5, breaker: true, label: "A" });
  r.clock.advance(3_600_000);
  feed("m1", { voltage: 236, current: 7 });
  r.clock.advance(3_600_000);
  feed("m1", { voltage: 227, current: Number.NaN });
  feed("m2", { temp: -3.5 });
  assert.equal(r.closed.length, 0);
  // midnight in Prague is 22:00 UTC in summer
  r.clock.advance(localMidnight(2026, 6, 11, TZ) - r.clock.now() - 1);
  assert.equal(r.closed.length, 0, "not before local midnight");
  r.clock.advance(1);
  assert.equal(r.closed.length, 1);
  const expected: DayStats = {
    date: "2026-06-10",
    devices: {
      m1: {
        current: { min: 5, max: 7, avg: 6, count: 2 },
        voltage: { min: 227, max: 236, avg: 231, count: 3 },
      },
      m2: { temp: { min: -3.5, max: -3.5, avg: -3.5, count: 1 } },
    },
    quotas: {},
  };
  assert.deepEqual(r.closed[0], expected);
  assert.ok(Object.isFrozen(r.closed[0]?.devices.m1), "hooks share one read-only summary");
  assert.deepEqual(r.stats.day("2026-06-10"), expected, "stored in day_stats");
  assert.deepEqual(r.stats.day(), expected, "the latest closed day");
  const rows = r.db.prepare("SELECT device_id FROM day_stats WHERE date = ? ORDER BY device_id").all("2026-06-10");
  assert.deepEqual(rows, [{ device_id: "" }, { device_id: "m1" }, { device_id: "m2" }]);

  // the next day starts empty and closes 24 h later
  feed("m1", { voltage: 240 });
  r.clock.advance(86_400_000);
  assert.equal(r.closed.length, 2);
  assert.deepEqual(r.closed[1]?.devices, { m1: { voltage: { min: 240, max: 240, avg: 240, count: 1 } } });
  assert.equal(r.closed[1]?.date, "2026-06-11");
  await r.stats.stop();
});

test("a 23 h and a 25 h DST day each close once, at their local midnight", async () => {
  // 2026-03-29: clocks go forward in Prague (23 h day); starts at local midnight (23:00 UTC the day before)
  const r = rig(localMidnight(2026, 3, 29, TZ));
  await r.stats.start();
  r.stats.observe(reading("m1", r.clock.now(), { v: 1 }));
  r.clock.advance(23 * 3_600_000 - 60_000);
  assert.equal(r.closed.length, 0);
  r.clock.advance(60_000);
  assert.deepEqual(
    r.closed.map((d) => d.date),
    ["2026-03-29"],
    "closed after 23 h",
  );
  assert.equal(r.clock.now(), localMidnight(2026, 3, 30, TZ));
  r.clock.advance(3_600_000);
  assert.equal(r.closed.length, 1, "closed once");
  await r.stats.stop();

  // 2026-10-25: clocks go back (25 h day)
  const f = rig(localMidnight(2026, 10, 25, TZ));
  await f.stats.start();
  f.stats.observe(reading("m1", f.clock.now(), { v: 1 }));
  f.clock.advance(24 * 3_600_000 + 30 * 60_000);
  assert.equal(f.closed.length, 0, "not after 24 h: the day has 25");
  f.clock.advance(30 * 60_000);
  assert.deepEqual(
    f.closed.map((d) => d.date),
    ["2026-10-25"],
  );
  f.clock.advance(23 * 3_600_000);
  assert.equal(f.closed.length, 1, "closed once");
  f.clock.advance(3_600_000);
  assert.deepEqual(
    f.closed.map((d) => d.date),
    ["2026-10-25", "2026-10-26"],
  );
  await f.stats.stop();
});

test("a restart within the day keeps its accumulators: clean stop, and a crash after a periodic write", async () => {
  const root = mkdtempSync(join(tmpdir(), "ea-daystats-restart-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const start = Date.UTC(2026, 5, 10, 6);
  const a = rig(start, { flushMs: 300_000 }, root);
  await a.stats.start();
  a.stats.observe(reading("m1", start, { v: 10 }));
  a.stats.observe(reading("m1", start, { v: 20 }));
  await a.stats.stop(); // clean stop writes the day
  a.db.close();
  cleanups.pop();

  const b = rig(start + 3_600_000, { flushMs: 300_000 }, root);
  await b.stats.start();
  b.stats.observe(reading("m1", b.clock.now(), { v: 5 }));
  b.clock.advance(300_000); // periodic write
  b.stats.observe(reading("m1", b.clock.now(), { v: 999 })); // not written: lost in the crash
  b.db.close(); // crash: no stop()
  cleanups.pop();

  const c = rig(start + 2 * 3_600_000, { flushMs: 300_000 }, root);
  await c.stats.start();
  c.stats.observe(reading("m1", c.clock.now(), { v: 30 }));
  c.clock.advance(localMidnight(2026, 6, 11, TZ) - c.clock.now());
  assert.deepEqual(c.closed[0]?.devices.m1, { v: { min: 5, max: 30, avg: 16.25, count: 4 } });
  await c.stats.stop();
});

test("a day left open while the agent was down across midnight is closed at start with what was kept", async () => {
  const root = mkdtempSync(join(tmpdir(), "ea-daystats-down-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const a = rig(Date.UTC(2026, 5, 10, 20), {}, root); // 22:00 local
  await a.stats.start();
  a.stats.observe(reading("m1", a.clock.now(), { v: 4 }));
  await a.stats.stop();
  a.db.close();
  cleanups.pop();

  const b = rig(Date.UTC(2026, 5, 11, 6), {}, root); // next morning
  await b.stats.start();
  assert.deepEqual(
    b.closed.map((d) => [d.date, d.devices]),
    [["2026-06-10", { m1: { v: { min: 4, max: 4, avg: 4, count: 1 } } }]],
  );
  assert.equal(b.stats.date, "2026-06-11");
  b.clock.advance(localMidnight(2026, 6, 12, TZ) - b.clock.now());
  assert.deepEqual(
    b.closed.map((d) => [d.date, d.devices]),
    [
      ["2026-06-10", { m1: { v: { min: 4, max: 4, avg: 4, count: 1 } } }],
      ["2026-06-11", {}],
    ],
    "the day after starts empty; a day with no reading is still stored",
  );
  await b.stats.stop();
});

test("closed days beyond stats.retentionDays are deleted", async () => {
  const r = rig(localMidnight(2026, 6, 1, TZ), { retentionDays: 3 });
  await r.stats.start();
  for (let d = 0; d < 6; d++) {
    r.stats.observe(reading("m1", r.clock.now(), { v: d }));
    r.clock.advance(localMidnight(2026, 6, 2 + d, TZ) - r.clock.now());
  }
  assert.equal(r.closed.length, 6);
  assert.deepEqual(r.stats.days(), ["2026-06-04", "2026-06-05", "2026-06-06"]);
  assert.equal(r.stats.day("2026-06-03"), undefined);
  assert.deepEqual(r.stats.day("2026-06-06")?.devices.m1?.v, { min: 5, max: 5, avg: 5, count: 1 });
  await r.stats.stop();
});

test("the quotas' usage of the day comes from the quota tracker, also across a restart", async () => {
  const start = Date.UTC(2026, 5, 10, 6);
  const q = quotaHarness(
    [{ id: "q-month", device: "meter-01", metric: "energy_kwh", period: "month", limit: 1e6 }],
    start,
  );
  cleanups.push(() => q.close());
  await q.tracker.start();
  const closed: DayStats[] = [];
  q.events.on("dayClosed", (s) => closed.push(s));
  const make = () =>
    new DayStatistics({
      db: q.db,
      clock: q.clock,
      log: captureLog().log,
      events: q.events,
      timezone: TZ,
      retentionDays: 400,
      quotas: q.tracker,
    });
  let stats = make();
  await stats.start();
  q.feed(start, 1000); // baseline
  q.clock.advance(3_600_000);
  q.feed(q.clock.now(), 1012.5);
  await stats.stop();
  stats = make(); // restarted: the 12.5 counted so far is kept
  await stats.start();
  q.clock.advance(3_600_000);
  q.feed(q.clock.now(), 1020);
  q.clock.advance(localMidnight(2026, 6, 11, TZ) - q.clock.now());
  assert.deepEqual(closed[0]?.quotas, { "q-month": 20 });
  q.clock.advance(3_600_000);
  q.feed(q.clock.now(), 1021);
  q.clock.advance(localMidnight(2026, 6, 12, TZ) - q.clock.now());
  assert.deepEqual(closed[1]?.quotas, { "q-month": 1 }, "the next day counts only its own usage");
  await stats.stop();
  await q.tracker.stop();
});
