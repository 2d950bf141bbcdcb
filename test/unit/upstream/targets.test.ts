import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffMs } from "../../../src/upstream/backoff.js";
import { CLASS_TARGET, type TargetName, Targets } from "../../../src/upstream/targets.js";

const T0 = 1_000_000;
/** Highest jitter: the backoff is exactly base·2^(n-1). */
const top = () => 1;

function failedOnce(name: TargetName = "upstream"): Targets {
  const t = new Targets(top);
  t.begin(name);
  t.finish(name, { kind: "retry" }, T0);
  return t;
}

test("every outbox class has its target; a fresh target is ready", () => {
  assert.deepEqual(CLASS_TARGET, { alarm: "upstream", workorder: "workorders", notification: "webhook" });
  const t = new Targets(top);
  for (const name of ["upstream", "workorders", "webhook"] as const) {
    assert.equal(t.ready(name, T0), true);
    assert.deepEqual(t.get(name), {
      name,
      failures: 0,
      blockedUntil: 0,
      probing: false,
      inflight: 0,
      paused: null,
    });
  }
});

test("requests in flight do not hold a healthy target back", () => {
  const t = new Targets(top);
  t.begin("upstream");
  t.begin("upstream");
  assert.equal(t.ready("upstream", T0), true);
  assert.deepEqual(t.finish("upstream", { kind: "ok" }, T0), { kind: "none" });
  assert.equal(t.get("upstream").inflight, 1);
});

test("a failure backs the target off, then one probe at a time until one is accepted", () => {
  const t = failedOnce();
  assert.equal(t.get("upstream").blockedUntil, T0 + backoffMs(1, top));
  assert.equal(t.ready("upstream", T0 + 999), false);
  assert.equal(t.ready("upstream", T0 + 1000), true);
  // the other targets are not affected
  assert.equal(t.ready("webhook", T0), true);
  t.begin("upstream");
  assert.equal(t.ready("upstream", T0 + 1000), false, "the probe is out: nothing else goes");
  // the probe fails: the second failure doubles the delay
  assert.deepEqual(t.finish("upstream", { kind: "retry" }, T0 + 1500), {
    kind: "backoff",
    failures: 2,
    delayMs: 2000,
  });
  assert.equal(t.get("upstream").blockedUntil, T0 + 3500);
  t.begin("upstream");
  assert.deepEqual(t.finish("upstream", { kind: "ok" }, T0 + 4000), {
    kind: "recovered",
    wasPaused: false,
    failures: 2,
  });
  assert.deepEqual(t.get("upstream"), {
    name: "upstream",
    failures: 0,
    blockedUntil: 0,
    probing: false,
    inflight: 0,
    paused: null,
  });
});

test("requests already in flight when the target failed count as one failure", () => {
  const t = new Targets(top);
  for (let i = 0; i < 3; i++) t.begin("webhook");
  assert.equal(t.finish("webhook", { kind: "retry" }, T0).kind, "backoff");
  assert.deepEqual(t.finish("webhook", { kind: "retry" }, T0 + 10), { kind: "none" });
  assert.deepEqual(t.finish("webhook", { kind: "retry" }, T0 + 20), { kind: "none" });
  assert.equal(t.get("webhook").failures, 1);
  assert.equal(t.get("webhook").inflight, 0);
});

test("Retry-After sets the delay instead of the backoff", () => {
  const t = new Targets(top);
  t.begin("upstream");
  assert.deepEqual(t.finish("upstream", { kind: "retry", afterMs: 7000 }, T0), {
    kind: "backoff",
    failures: 1,
    delayMs: 7000,
  });
  assert.equal(t.ready("upstream", T0 + 6999), false);
  assert.equal(t.ready("upstream", T0 + 7000), true);
});

test("a credentials refusal pauses the target once, keeps probing, and an accepted probe resumes it", () => {
  const t = new Targets(top);
  t.begin("workorders");
  assert.deepEqual(t.finish("workorders", { kind: "pause", reason: "HTTP 401" }, T0), {
    kind: "paused",
    first: true,
    failures: 1,
    delayMs: 1000,
  });
  assert.deepEqual(t.get("workorders").paused, { since: T0, message: "HTTP 401" });
  t.begin("workorders");
  assert.deepEqual(t.finish("workorders", { kind: "pause", reason: "HTTP 403" }, T0 + 1000), {
    kind: "paused",
    first: false,
    failures: 2,
    delayMs: 2000,
  });
  // the pause keeps the first refusal's time and message
  assert.deepEqual(t.get("workorders").paused, { since: T0, message: "HTTP 401" });
  t.begin("workorders");
  assert.deepEqual(t.finish("workorders", { kind: "ok" }, T0 + 3000), {
    kind: "recovered",
    wasPaused: true,
    failures: 2,
  });
  assert.equal(t.get("workorders").paused, null);
});

test("a refusal while already backing off pauses without counting another failure", () => {
  const t = failedOnce("upstream");
  t.begin("upstream");
  assert.deepEqual(t.finish("upstream", { kind: "pause", reason: "HTTP 401" }, T0 + 10), { kind: "none" });
  assert.equal(t.get("upstream").failures, 1);
  assert.notEqual(t.get("upstream").paused, null);
});

test("a dead letter is an answer: the target works again", () => {
  const t = failedOnce();
  t.begin("upstream");
  assert.deepEqual(t.finish("upstream", { kind: "dead" }, T0 + 1000), {
    kind: "recovered",
    wasPaused: false,
    failures: 1,
  });
  assert.equal(t.ready("upstream", T0 + 1000), true);
});

test("skipped and aborted requests only free their slot", () => {
  const t = failedOnce();
  t.begin("upstream");
  assert.deepEqual(t.finish("upstream", { kind: "aborted" }, T0 + 1000), { kind: "none" });
  t.begin("upstream");
  assert.deepEqual(t.finish("upstream", { kind: "skipped" }, T0 + 1000), { kind: "none" });
  const s = t.get("upstream");
  assert.equal(s.inflight, 0);
  assert.equal(s.failures, 1);
  assert.equal(s.probing, true);
});

test("retry now ends every backoff; the probe rule still holds", () => {
  const t = failedOnce("upstream");
  t.begin("webhook");
  t.finish("webhook", { kind: "retry" }, T0);
  t.clearBackoff();
  assert.equal(t.ready("upstream", T0), true);
  assert.equal(t.ready("webhook", T0), true);
  assert.equal(t.get("upstream").failures, 1, "the failure count (and next delay) is kept");
  t.begin("upstream");
  assert.equal(t.ready("upstream", T0), false);
});

test("a recorded pause is cleared once", () => {
  const t = new Targets(top);
  assert.equal(t.takePauseRecorded("upstream"), false);
  t.notePauseRecorded("upstream");
  assert.equal(t.takePauseRecorded("upstream"), true);
  assert.equal(t.takePauseRecorded("upstream"), false);
});
