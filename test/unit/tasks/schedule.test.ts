// The slots of a schedule in a time zone: cron through both daylight-saving changes (each slot
// once), every N seconds on the epoch, times of day on some weekdays, and refused input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileSchedule, ScheduleError } from "../../../src/tasks/schedule.js";
import type { TaskSchedule } from "../../../src/tasks/types.js";

const PRAGUE = "Europe/Prague";
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** Every slot in (from, to]. */
function slots(s: TaskSchedule, tz: string, from: string, to: string): string[] {
  const c = compileSchedule(s, tz);
  const end = Date.parse(to);
  const out: string[] = [];
  for (let t = c.next(Date.parse(from)); t !== null && t <= end; t = c.next(t)) out.push(iso(t) as string);
  return out;
}

describe("cron", () => {
  test("a daily slot in the zone; next is strictly after, previous at or before", () => {
    const c = compileSchedule({ cron: "0 6 * * *" }, PRAGUE);
    // 06:00 in Prague in January is 05:00 UTC.
    assert.equal(iso(c.next(Date.UTC(2026, 0, 10))), "2026-01-10T05:00:00.000Z");
    assert.equal(iso(c.next(Date.UTC(2026, 0, 10, 5))), "2026-01-11T05:00:00.000Z");
    assert.equal(iso(c.previous(Date.UTC(2026, 0, 10, 5))), "2026-01-10T05:00:00.000Z");
    assert.equal(iso(c.previous(Date.UTC(2026, 0, 10, 4, 59, 59, 999))), "2026-01-09T05:00:00.000Z");
    // In summer the same local time is 04:00 UTC.
    assert.equal(iso(c.next(Date.UTC(2026, 6, 1))), "2026-07-01T04:00:00.000Z");
  });

  test("spring forward: a slot in the skipped hour runs once, at the shifted time", () => {
    // 29 March 2026: Prague goes from 02:00 CET straight to 03:00 CEST; 02:30 does not exist.
    assert.deepEqual(slots({ cron: "30 2 * * *" }, PRAGUE, "2026-03-28T00:00:00Z", "2026-03-30T23:59:59Z"), [
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  test("fall back: a slot in the repeated hour runs once", () => {
    // 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice (00:30Z and 01:30Z).
    assert.deepEqual(slots({ cron: "30 2 * * *" }, PRAGUE, "2026-10-24T00:00:00Z", "2026-10-26T23:59:59Z"), [
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  test("six fields: seconds first", () => {
    assert.deepEqual(slots({ cron: "*/20 * * * * *" }, "UTC", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"), [
      "2026-01-01T00:00:20.000Z",
      "2026-01-01T00:00:40.000Z",
      "2026-01-01T00:01:00.000Z",
    ]);
  });

  test("a date that never comes has no slot", () => {
    assert.equal(compileSchedule({ cron: "0 0 30 2 *" }, "UTC").next(Date.UTC(2026, 0, 1)), null);
  });
});

describe("every", () => {
  test("multiples of N seconds since the epoch, whatever the start", () => {
    const c = compileSchedule({ every: 90 }, PRAGUE);
    assert.equal(c.next(Date.UTC(2026, 0, 1, 0, 0, 1)), Date.UTC(2026, 0, 1, 0, 1, 30));
    assert.equal(c.next(Date.UTC(2026, 0, 1, 0, 1, 30)), Date.UTC(2026, 0, 1, 0, 3, 0));
    assert.equal(c.previous(Date.UTC(2026, 0, 1, 0, 2, 59)), Date.UTC(2026, 0, 1, 0, 1, 30));
    assert.equal(c.previous(Date.UTC(2026, 0, 1, 0, 3, 0)), Date.UTC(2026, 0, 1, 0, 3, 0));
  });
});

describe("times of day", () => {
  test("several times, every day, in the zone", () => {
    assert.deepEqual(slots({ times: ["18:30", "06:00"] }, PRAGUE, "2026-01-05T00:00:00Z", "2026-01-06T12:00:00Z"), [
      "2026-01-05T05:00:00.000Z",
      "2026-01-05T17:30:00.000Z",
      "2026-01-06T05:00:00.000Z",
    ]);
  });

  test("only on the given weekdays (1 = Monday … 7 = Sunday)", () => {
    // 2026-01-03 is a Saturday, 2026-01-04 a Sunday, 2026-01-05 a Monday.
    assert.deepEqual(
      slots({ times: ["08:00:30"], days: [1, 7] }, "UTC", "2026-01-02T00:00:00Z", "2026-01-12T00:00:00Z"),
      ["2026-01-04T08:00:30.000Z", "2026-01-05T08:00:30.000Z", "2026-01-11T08:00:30.000Z"],
    );
  });

  test("through the spring change, a time in the skipped hour still runs once that day", () => {
    assert.deepEqual(slots({ times: ["02:15"] }, PRAGUE, "2026-03-28T12:00:00Z", "2026-03-29T23:00:00Z"), [
      "2026-03-29T01:15:00.000Z",
    ]);
  });
});

describe("refused input", () => {
  const cases: [TaskSchedule, string, RegExp][] = [
    [{ cron: "61 * * * *" }, "$.schedule.cron", /invalid cron expression "61 \* \* \* \*".*minute/],
    [{ cron: "* * * *" }, "$.schedule.cron", /has 4 fields; give 5 .* or 6/],
    [{ every: 0 }, "$.schedule.every", /at least 1/],
    [{ times: [] }, "$.schedule.times", /non-empty list/],
    [{ times: ["06:00", "25:00"] }, "$.schedule.times[1]", /"25:00" is not a time of day/],
    [{ times: ["06:00"], days: [0] }, "$.schedule.days", /weekdays 1 \(Monday\) … 7 \(Sunday\)/],
    [{ cron: "0 6 * * *", every: 5 } as unknown as TaskSchedule, "$.schedule", /exactly one/],
    [{} as TaskSchedule, "$.schedule", /needs one of "cron", "every" or "times"/],
  ];
  for (const [schedule, path, message] of cases) {
    test(`${JSON.stringify(schedule)} → ${path}`, () => {
      assert.throws(
        () => compileSchedule(schedule, "UTC"),
        (err: unknown) => err instanceof ScheduleError && err.path === path && message.test(err.message),
      );
    });
  }

  test("an unknown time zone is named", () => {
    assert.throws(
      () => compileSchedule({ cron: "0 6 * * *" }, "Mars/Olympus"),
      /\$\.timezone: unknown time zone "Mars\/Olympus"/,
    );
  });
});
