// Quota usage survives restarts: a clean stop, a crash between flushes (the next delta is taken
// from the persisted baseline, so the unflushed window is not lost) and a restart on a new day.
process.env.TZ = "Europe/Berlin";

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { quotaHarness, usageRows } from "../../fixtures/hooks/quota-harness.js";
import { waitFor } from "../../helpers/wait.js";

const local = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();
const daily = { id: "d", device: "meter-01", metric: "energy_kwh", period: "day" as const, limit: 100, warnAt: 0.9 };
const root = mkdtempSync(join(tmpdir(), "ea-quota-restart-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("usage, baseline and crossings survive a clean restart, a crash and a restart on the next day", async () => {
  // run 1: clean stop after the pre-warning
  const a = quotaHarness([daily], local(2026, 6, 1, 8), root);
  await a.tracker.start();
  a.feed(local(2026, 6, 1, 8), 1000);
  a.feed(local(2026, 6, 1, 9), 1050);
  a.feed(local(2026, 6, 1, 10), 1091);
  assert.deepEqual(
    a.exceeded.map(([, u]) => u.crossed),
    ["warn"],
  );
  await a.tracker.stop();
  a.close();

  // run 2: the warn crossing is remembered (no second event); then a crash between flushes
  const b = quotaHarness([daily], local(2026, 6, 1, 11), root);
  await b.tracker.start();
  assert.equal(b.tracker.snapshot()[0]?.usage, 91);
  b.feed(local(2026, 6, 1, 11), 1095);
  assert.equal(b.exceeded.length, 0, "the pre-warning already fired in this period");
  b.feed(local(2026, 6, 1, 11, 30), 1099);
  b.clock.advance(5000); // periodic flush
  b.feed(local(2026, 6, 1, 12), 1101); // crossing: persisted promptly, after the call returns
  assert.deepEqual(
    b.exceeded.map(([, u]) => [u.crossed, u.usage]),
    [["limit", 101]],
  );
  await waitFor(() => usageRows(b.db, "d").find((r) => r.usage === 101 && r.crossed === 2), {
    what: "the limit crossing persisted",
  });
  b.feed(local(2026, 6, 1, 12, 30), 1110); // not flushed: lost by the crash...
  b.close(); // crash: no stop()

  const c = quotaHarness([daily], local(2026, 6, 1, 13), root);
  await c.tracker.start();
  assert.equal(c.tracker.snapshot()[0]?.usage, 101);
  c.feed(local(2026, 6, 1, 13), 1130); // ...but recovered from the persisted baseline 1101
  assert.equal(c.tracker.snapshot()[0]?.usage, 130);
  assert.deepEqual(c.exceeded, [], "the limit crossing was persisted: no duplicate event");
  assert.deepEqual(c.observed, [["quota:d", 2]], "the alarm level is re-asserted after restart");
  await c.tracker.stop();
  c.close();

  // run 4: restarted the next morning; the old day's alarm resolves and usage restarts at the gap share
  const d = quotaHarness([daily], local(2026, 6, 2, 1), root);
  await d.tracker.start();
  assert.equal(d.tracker.snapshot()[0]?.periodStart, local(2026, 6, 2));
  d.feed(local(2026, 6, 2, 1), 1130 + 12); // 11 h since the last reading, 1 of them today
  assert.deepEqual(d.observed, [["quota:d", 0]], "the alarm service is told the quota is back to normal");
  assert.equal(d.tracker.snapshot()[0]?.usage, 1);
  await d.tracker.stop();
  assert.deepEqual(
    usageRows(d.db, "d").map((r) => [new Date(r.period_start).getDate(), r.usage, r.crossed]),
    [
      [1, 141, 2],
      [2, 1, 0],
    ],
  );
  d.close();
});
