import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfig } from "../../../src/config/load.js";
import { localDate, localMidnight, localParts, nextLocalMidnight, zoneOffsetMs } from "../../../src/core/local-time.js";

const H = 3_600_000;

describe("local time in a named zone", () => {
  test("wall-clock fields and weekday", () => {
    // 2026-11-29 is a Sunday; 23:30 UTC is already Monday 00:30 in Prague (UTC+1 in winter).
    const t = Date.UTC(2026, 10, 29, 23, 30);
    assert.deepEqual(localParts(t, "Europe/Prague"), {
      year: 2026,
      month: 11,
      day: 30,
      hour: 0,
      minute: 30,
      second: 0,
      weekday: 1,
    });
    assert.equal(localParts(t, "UTC").weekday, 7);
    assert.equal(localDate(t, "Europe/Prague"), "2026-11-30");
    assert.equal(localDate(t, "America/New_York"), "2026-11-29");
  });

  test("offsets follow daylight saving time", () => {
    assert.equal(zoneOffsetMs(Date.UTC(2026, 0, 15, 12), "Europe/Prague"), 1 * H);
    assert.equal(zoneOffsetMs(Date.UTC(2026, 6, 15, 12), "Europe/Prague"), 2 * H);
    assert.equal(zoneOffsetMs(Date.UTC(2026, 6, 15, 12), "America/New_York"), -4 * H);
    assert.equal(zoneOffsetMs(Date.UTC(2026, 6, 15, 12, 0, 0, 999), "Asia/Kolkata"), 5.5 * H);
  });

  test("a local day is 23 h on the spring-forward day and 25 h on the fall-back day", () => {
    const tz = "Europe/Prague";
    const mar29 = localMidnight(2026, 3, 29, tz);
    assert.equal(mar29, Date.UTC(2026, 2, 28, 23));
    assert.equal(nextLocalMidnight(mar29, tz) - mar29, 23 * H);
    const oct25 = localMidnight(2026, 10, 25, tz);
    assert.equal(oct25, Date.UTC(2026, 9, 24, 22));
    assert.equal(nextLocalMidnight(oct25, tz) - oct25, 25 * H);
    // Any instant of the day leads to the same next midnight, the last millisecond included.
    assert.equal(nextLocalMidnight(oct25 + 25 * H - 1, tz), oct25 + 25 * H);
  });

  test("a month or a year overflows into the next", () => {
    assert.equal(localMidnight(2026, 12, 32, "UTC"), Date.UTC(2027, 0, 1));
    assert.equal(nextLocalMidnight(Date.UTC(2026, 1, 28, 12), "UTC"), Date.UTC(2026, 2, 1));
  });

  test("where midnight does not exist, the day starts after the gap", () => {
    // Chile springs forward at 00:00 local on the first Sunday of September: 2026-09-06 starts at 01:00.
    const t = localMidnight(2026, 9, 6, "America/Santiago");
    assert.equal(localDate(t, "America/Santiago"), "2026-09-06");
    assert.equal(localParts(t, "America/Santiago").hour, 1);
    assert.equal(localDate(t - 1, "America/Santiago"), "2026-09-05");
  });
});

describe("config: timezone and tick interval", () => {
  const dir = mkdtempSync(join(tmpdir(), "ea-tz-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = async (extra: Record<string, unknown>) => {
    const file = join(dir, "agent.json");
    writeFileSync(file, JSON.stringify({ gatewayId: "gw-01", ...extra }));
    return loadConfig(file, {}, { cwd: dir });
  };

  test("defaults to the system's zone, keeps a valid IANA name", async () => {
    const sys = Intl.DateTimeFormat().resolvedOptions().timeZone;
    assert.equal((await load({})).config?.timezone, sys);
    assert.equal((await load({ timezone: "Asia/Shanghai" })).config?.timezone, "Asia/Shanghai");
  });

  test("an unknown zone is refused with the path and a hint", async () => {
    const r = await load({ timezone: "Europe/Prage" });
    assert.equal(r.config, null);
    const p = r.problems.find((x) => x.path === "$.timezone");
    assert.ok(p, JSON.stringify(r.problems));
    assert.match(p.message, /unknown time zone 'Europe\/Prage'/);
    assert.match(p.hint ?? "", /IANA/);
  });

  test("hooks.tickIntervalMs below 100 (but not 0) is refused with what to use", async () => {
    const r = await load({ hooks: { tickIntervalMs: 50 } });
    assert.equal(r.config, null);
    const p = r.problems.find((x) => x.path === "$.hooks.tickIntervalMs");
    assert.equal(p?.message, "50 ms is too short for onTick");
    assert.equal(p?.hint, "use at least 100, or 0 to turn onTick off");
    assert.equal((await load({ hooks: { tickIntervalMs: 0 } })).config?.hooks.tickIntervalMs, 0);
  });
});
