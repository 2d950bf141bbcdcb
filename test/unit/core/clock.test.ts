import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";

test("ManualClock fires timers in due order and repeats intervals", () => {
  const clock = new ManualClock(1_000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`t50@${clock.now()}`), 50);
  const iv = clock.setInterval(() => fired.push(`i30@${clock.now()}`), 30);
  const cancelled = clock.setTimeout(() => fired.push("never"), 40);
  clock.clearTimeout(cancelled);
  clock.advance(100);
  assert.deepEqual(fired, ["i30@1030", "t50@1050", "i30@1060", "i30@1090"]);
  clock.clearInterval(iv);
  clock.advance(100);
  assert.equal(fired.length, 4);
  assert.equal(clock.now(), 1_200);
});
