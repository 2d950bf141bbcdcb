// Which devices have an open alarm, in one place: a device is announced when it gains its first
// open alarm and when it loses its last, never in between; operator alarms without a device are
// counted but belong to no device; a failing listener does not stop the others.

import assert from "node:assert/strict";
import { test } from "node:test";
import { OpenAlarms } from "../../../src/alarms/open-alarms.js";
import { silentLogger } from "../../../src/core/log.js";

test("first open alarm and last resolve of a device are announced, the ones between are not", () => {
  const open = new OpenAlarms();
  const seen: string[] = [];
  open.onChange((id, has) => seen.push(`${id}:${has}`));
  open.add("m1", 1);
  open.add("m1", 1);
  open.add("m2", 1);
  open.add("m1", -1);
  assert.deepEqual(seen, ["m1:true", "m2:true"]);
  assert.equal(open.has("m1"), true, "one alarm of m1 is still open");
  open.add("m1", -1);
  assert.deepEqual(seen, ["m1:true", "m2:true", "m1:false"]);
  assert.equal(open.has("m1"), false);
  assert.deepEqual(open.devices(), ["m2"]);
  assert.equal(open.total, 1);
});

test("an operator alarm without a device counts in the total and belongs to no device", () => {
  const open = new OpenAlarms();
  const seen: string[] = [];
  open.onChange((id, has) => seen.push(`${id}:${has}`));
  open.add("", 1);
  assert.equal(open.total, 1);
  assert.equal(open.has(""), false);
  assert.deepEqual(open.devices(), []);
  open.reset(["", "m1", "m1"]);
  assert.deepEqual(seen, ["m1:true"], "only real devices are announced");
  assert.equal(open.total, 3);
});

test("reset replaces the counts and announces every device with an open alarm", () => {
  const open = new OpenAlarms();
  open.add("old", 1);
  const seen: string[] = [];
  open.onChange((id, has) => seen.push(`${id}:${has}`));
  open.reset(["a", "b", "a"]);
  assert.deepEqual(seen, ["a:true", "b:true"]);
  assert.equal(open.has("old"), false);
  open.add("a", -1);
  assert.equal(open.has("a"), true, "a had two");
});

test("a resolve never counted leaves no negative count; a throwing listener does not stop the next", () => {
  const open = new OpenAlarms(silentLogger());
  const seen: string[] = [];
  open.onChange(() => {
    throw new Error("listener bug");
  });
  const stop = open.onChange((id, has) => seen.push(`${id}:${has}`));
  open.add("x", -1);
  assert.deepEqual(seen, ["x:false"]);
  open.add("x", 1);
  assert.deepEqual(seen, ["x:false", "x:true"], "the next open alarm is a first one again");
  stop();
  open.add("x", -1);
  assert.equal(seen.length, 2, "an unsubscribed listener hears nothing");
});
