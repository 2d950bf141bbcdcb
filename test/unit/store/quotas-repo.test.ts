// QuotasRepo over a real SQLite file: the latest period row is where a restart resumes, closed
// periods keep their usage without a baseline, a gap's share adds to an earlier period, and a
// transaction commits all of its writes or none.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { QuotasRepo } from "../../../src/store/quotas-repo.js";

const root = mkdtempSync(join(tmpdir(), "ea-quotas-repo-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(root, `quotas-${++n}.db`);

const DAY = 86_400_000;
const D1 = Date.UTC(2026, 0, 15);
const D2 = D1 + DAY;

function rows(db: Db, quotaId: string) {
  return db
    .prepare(
      "SELECT period_start, usage, last_value, last_ts, crossed FROM quota_usage WHERE quota_id = ? ORDER BY period_start",
    )
    .all(quotaId);
}

describe("QuotasRepo", () => {
  it("latest is undefined for a quota that never counted, then the newest period's row", () => {
    const db = openDatabase(freshFile());
    const repo = new QuotasRepo(db);
    assert.equal(repo.latest("q1"), undefined);
    repo.put("q1", { periodStart: D1, usage: 40, lastValue: null, lastTs: null, crossed: 1 });
    repo.put("q1", { periodStart: D2, usage: 2.5, lastValue: 1042.5, lastTs: D2 + 60_000, crossed: 0 });
    assert.deepEqual(repo.latest("q1"), {
      periodStart: D2,
      usage: 2.5,
      lastValue: 1042.5,
      lastTs: D2 + 60_000,
      crossed: 0,
    });
    assert.equal(repo.latest("q2"), undefined, "another quota's rows are not its own");
    db.close();
  });

  it("put replaces a period's row; add sums into it, creating it with no baseline and no crossing", () => {
    const db = openDatabase(freshFile());
    const repo = new QuotasRepo(db);
    repo.put("q", { periodStart: D2, usage: 1, lastValue: 100, lastTs: D2 + 1, crossed: 2 });
    repo.put("q", { periodStart: D2, usage: 3, lastValue: 102, lastTs: D2 + 2, crossed: 2 });
    repo.add("q", D2, 4);
    repo.add("q", D1, 7);
    repo.add("q", D1, 0.5);
    assert.deepEqual(rows(db, "q"), [
      { period_start: D1, usage: 7.5, last_value: null, last_ts: null, crossed: 0 },
      { period_start: D2, usage: 7, last_value: 102, last_ts: D2 + 2, crossed: 2 },
    ]);
    db.close();
  });

  it("a transaction commits all of its writes, or none when it throws", () => {
    const db = openDatabase(freshFile());
    const repo = new QuotasRepo(db);
    repo.transaction(() => {
      repo.put("q", { periodStart: D1, usage: 10, lastValue: null, lastTs: null, crossed: 0 });
      repo.put("q", { periodStart: D2, usage: 1, lastValue: 5, lastTs: D2, crossed: 0 });
    });
    assert.equal(rows(db, "q").length, 2);
    assert.throws(
      () =>
        repo.transaction(() => {
          repo.add("q", D1, 100);
          throw new Error("disk full");
        }),
      /disk full/,
    );
    assert.equal(repo.latest("q")?.usage, 1);
    assert.deepEqual(
      rows(db, "q").map((r) => (r as { usage: number }).usage),
      [10, 1],
      "the rolled-back add left no trace",
    );
    db.close();
  });

  it("survives a reopen (a restart resumes from the stored baseline)", () => {
    const file = freshFile();
    const db = openDatabase(file);
    new QuotasRepo(db).put("q", { periodStart: D1, usage: 12.25, lastValue: 99, lastTs: D1 + 5, crossed: 1 });
    db.close();
    const again = openDatabase(file);
    assert.deepEqual(new QuotasRepo(again).latest("q"), {
      periodStart: D1,
      usage: 12.25,
      lastValue: 99,
      lastTs: D1 + 5,
      crossed: 1,
    });
    again.close();
  });

  it("constructing it touches no table: statements are prepared at first use", () => {
    const db = openDatabase(freshFile(), { migrations: [] });
    const repo = new QuotasRepo(db);
    assert.throws(() => repo.latest("q"), /no such table: quota_usage/);
    db.close();
  });
});
