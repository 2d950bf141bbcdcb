import assert from "node:assert/strict";
import { test } from "node:test";
import { AlarmIdGenerator, alarmIdTime } from "../../../src/alarms/ids.js";

test("ids are unique and sort in creation order, also within one millisecond", () => {
  const g = new AlarmIdGenerator(() => 1_767_225_600_000);
  const ids = Array.from({ length: 1000 }, () => g.next());
  assert.equal(new Set(ids).size, 1000);
  assert.deepEqual([...ids].sort(), ids);
  assert.match(ids[0] as string, /^[0-9a-f]{24}$/);
  assert.equal(alarmIdTime(ids[0] as string), 1_767_225_600_000);
});

test("ids stay monotonic when the clock steps back", () => {
  let now = 2_000_000;
  const g = new AlarmIdGenerator(() => now);
  const a = g.next();
  now = 1_000_000;
  const b = g.next();
  now = 2_000_001;
  const c = g.next();
  assert.ok(a < b && b < c, `${a} < ${b} < ${c}`);
});

test("seeding from the newest stored id keeps order across a restart with a clock behind", () => {
  const first = new AlarmIdGenerator(() => 5_000_000).next();
  const g = new AlarmIdGenerator(() => 4_000_000);
  g.seed(first);
  assert.ok(g.next() > first);
  g.seed("not-an-id");
  assert.ok(g.next() > first);
});

test("more than 65,536 ids in one millisecond borrow the next millisecond", () => {
  const g = new AlarmIdGenerator(() => 7);
  let last = "";
  for (let i = 0; i < 70_000; i++) {
    const id = g.next();
    assert.ok(id > last);
    last = id;
  }
  assert.equal(alarmIdTime(last), 8);
});
