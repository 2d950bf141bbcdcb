import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { resolveOutbox } from "../../../src/config/defaults.js";
import { openDatabase } from "../../../src/store/db.js";
import { OutboxRepo } from "../../../src/store/outbox-repo.js";

const dir = mkdtempSync(join(tmpdir(), "edge-outbox-bounds-"));
const db = openDatabase(join(dir, "edge-agent.db"));
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
const repo = new OutboxRepo({ db });
const state = () =>
  db.prepare("SELECT kind, state FROM outbox ORDER BY seq").all() as { kind: string; state: string }[];

test("when full, the oldest notification items are dropped first; alarm and work-order items never", () => {
  db.exec("DELETE FROM outbox");
  const kinds = ["webhook", "alert.add", "webhook", "workorder.create", "webhook", "alert.update"] as const;
  for (const [i, kind] of kinds.entries()) {
    repo.insert({ kind, stream: `s${i}`, alarmId: `A${i}`, payload: "{}", created: 1000 + i });
  }
  assert.deepEqual(repo.enforceBound(4, 2000), { dropped: 2, overBy: 0 });
  assert.deepEqual(
    state().map((r) => `${r.kind}:${r.state}`),
    [
      "webhook:dropped",
      "alert.add:pending",
      "webhook:dropped",
      "workorder.create:pending",
      "webhook:pending",
      "alert.update:pending",
    ],
  );
  // over the bound with alarm items only: nothing more is dropped, the excess is reported
  assert.deepEqual(repo.enforceBound(2, 2000), { dropped: 1, overBy: 1 });
  assert.equal(repo.countPending(), 3);
  assert.equal(repo.summary(2000).dropped, 3);
});

test("retention: pending items too old go to dead-letter; settled rows past retention are deleted", () => {
  db.exec("DELETE FROM outbox");
  const day = 86_400_000;
  const old = repo.insert({ kind: "alert.add", stream: "a:1", alarmId: "1", payload: "{}", created: 0 });
  const fresh = repo.insert({ kind: "alert.add", stream: "a:2", alarmId: "2", payload: "{}", created: 9 * day });
  const done = repo.insert({ kind: "alert.add", stream: "a:3", alarmId: "3", payload: "{}", created: 0 });
  repo.markDelivered(done, 1 * day);
  const r = repo.applyRetention(10 * day, 7 * day);
  assert.deepEqual(r, { expired: 1, deleted: 1 });
  const rows = db.prepare("SELECT seq, state, last_error FROM outbox ORDER BY seq").all() as {
    seq: number;
    state: string;
    last_error: string;
  }[];
  assert.deepEqual(
    rows.map((x) => [x.seq, x.state]),
    [
      [old, "dead"],
      [fresh, "pending"],
    ],
  );
  assert.match(rows[0]?.last_error ?? "", /expired/);
  // the dead letter stays visible for another retention period
  assert.deepEqual(repo.applyRetention(16 * day, 7 * day), { expired: 0, deleted: 0 });
  assert.deepEqual(repo.applyRetention(18 * day, 7 * day), { expired: 1, deleted: 1 });
});

test("applyLimits: retention first, then the size bound; the resolved defaults apply when the section is absent", () => {
  db.exec("DELETE FROM outbox");
  const day = 86_400_000;
  repo.insert({ kind: "webhook", stream: "h:1", alarmId: "1", payload: "{}", created: 0 });
  repo.insert({ kind: "alert.add", stream: "a:2", alarmId: "2", payload: "{}", created: 5 * day });
  repo.insert({ kind: "webhook", stream: "h:3", alarmId: "3", payload: "{}", created: 5 * day });
  repo.insert({ kind: "alert.update", stream: "a:2", alarmId: "2", payload: "{}", created: 5 * day });
  // the first row expired (dead) before the bound counts: one webhook left to drop, one alarm row over
  assert.deepEqual(repo.applyLimits(8 * day, { maxPending: 1, retentionDays: 7 }), {
    expired: 1,
    dropped: 1,
    overBy: 1,
    maxPending: 1,
    retentionDays: 7,
  });
  assert.deepEqual(
    state().map((r) => `${r.kind}:${r.state}`),
    ["webhook:dead", "alert.add:pending", "webhook:dropped", "alert.update:pending"],
  );
  assert.deepEqual(repo.applyLimits(8 * day, resolveOutbox(undefined)), {
    expired: 0,
    dropped: 0,
    overBy: 0,
    maxPending: 100_000,
    retentionDays: 7,
  });
});
