import assert from "node:assert/strict";
import { test } from "node:test";
import { closeByOperator, newEpisodeState, step, Transition } from "../../../src/alarms/state.js";
import { ManualClock } from "../../../src/core/clock.js";

const FOR_MS = 5000;

test("level 2 held for `for` creates status 2; a noisy single sample does not raise", () => {
  const clock = new ManualClock();
  const s = newEpisodeState();
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.None);
  clock.advance(1000);
  assert.equal(step(s, 0, clock.monotonic(), FOR_MS), Transition.None, "one noisy sample then clear");
  clock.advance(10_000);
  assert.equal(step(s, 0, clock.monotonic(), FOR_MS), Transition.None);
  assert.equal(s.status, 0);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.None);
  clock.advance(4999);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.None);
  clock.advance(1);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.Create);
  assert.equal(s.status, 2);
  clock.advance(1000);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.None, "one alarm per episode");
});

test("the `for` window restarts after a level 0", () => {
  const clock = new ManualClock();
  const s = newEpisodeState();
  step(s, 2, clock.monotonic(), FOR_MS);
  clock.advance(4000);
  step(s, 2, clock.monotonic(), FOR_MS);
  step(s, 0, clock.monotonic(), FOR_MS);
  step(s, 2, clock.monotonic(), FOR_MS);
  clock.advance(4000);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.None, "8 s of level 2 but broken by a 0");
  clock.advance(1000);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.Create);
});

test("pre-warning, escalation after `for` at level 2, immediate de-escalation and resolve", () => {
  const clock = new ManualClock();
  const s = newEpisodeState();
  step(s, 1, clock.monotonic(), FOR_MS);
  clock.advance(3000);
  step(s, 2, clock.monotonic(), FOR_MS);
  clock.advance(2000);
  // ≥1 held 5 s, 2 only 2 s: created as pre-warning.
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.Create);
  assert.equal(s.status, 1);
  clock.advance(2999);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.None);
  clock.advance(1);
  assert.equal(step(s, 2, clock.monotonic(), FOR_MS), Transition.Escalate);
  assert.equal(s.status, 2);
  assert.equal(step(s, 1, clock.monotonic(), FOR_MS), Transition.Deescalate);
  assert.equal(s.status, 1);
  assert.equal(step(s, 1, clock.monotonic(), FOR_MS), Transition.None);
  assert.equal(step(s, 0, clock.monotonic(), FOR_MS), Transition.Resolve);
  assert.equal(s.status, 0);
  assert.equal(step(s, 0, clock.monotonic(), FOR_MS), Transition.None);
});

test("for = 0 raises at the first sample and escalates at once", () => {
  const s = newEpisodeState();
  assert.equal(step(s, 1, 0, 0), Transition.Create);
  assert.equal(s.status, 1);
  assert.equal(step(s, 2, 1, 0), Transition.Escalate);
});

test("after an operator resolve no new episode starts until the condition clears", () => {
  const s = newEpisodeState();
  assert.equal(step(s, 2, 0, 0), Transition.Create);
  closeByOperator(s);
  assert.equal(step(s, 2, 10, 0), Transition.None);
  assert.equal(step(s, 2, 10_000, 0), Transition.None);
  assert.equal(step(s, 0, 10_001, 0), Transition.None);
  assert.equal(step(s, 2, 10_002, 0), Transition.Create);
});

test("an episode loaded open (restart) is not created again while the condition persists", () => {
  const s = newEpisodeState(2);
  assert.equal(step(s, 2, 0, FOR_MS), Transition.None);
  assert.equal(step(s, 2, 60_000, FOR_MS), Transition.None);
  assert.equal(step(s, 0, 60_001, FOR_MS), Transition.Resolve);
});
