// KvRepo over a real SQLite file: namespaces are separate, values are text as given, a delete
// reports whether the key existed, and what was written is there after the database is reopened.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { hasTable, openDatabase } from "../../../src/store/db.js";
import { KvRepo } from "../../../src/store/kv-repo.js";

const root = mkdtempSync(join(tmpdir(), "ea-kv-repo-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(root, `kv-${++n}.db`);

describe("KvRepo", () => {
  it("gets what was set, overwrites in place, and reports undefined for a missing key", () => {
    const db = openDatabase(freshFile());
    const kv = new KvRepo(db);
    assert.equal(kv.get("hook-a", "k"), undefined);
    kv.set("hook-a", "k", '{"n":1}');
    assert.equal(kv.get("hook-a", "k"), '{"n":1}');
    kv.set("hook-a", "k", '{"n":2}');
    assert.equal(kv.get("hook-a", "k"), '{"n":2}');
    assert.equal((db.prepare("SELECT count(*) AS n FROM kv").get() as { n: number }).n, 1, "one row, updated");
    db.close();
  });

  it("keeps namespaces apart and lists a namespace's keys in order", () => {
    const db = openDatabase(freshFile());
    const kv = new KvRepo(db);
    kv.set("b", "z", "1");
    kv.set("b", "a", "2");
    kv.set("c", "m", "3");
    assert.deepEqual(kv.keys("b"), ["a", "z"]);
    assert.deepEqual(kv.keys("c"), ["m"]);
    assert.deepEqual(kv.keys("none"), []);
    assert.equal(kv.get("c", "a"), undefined, "b's key is not visible in c");
    db.close();
  });

  it("delete is true only when the key existed, and touches no other namespace", () => {
    const db = openDatabase(freshFile());
    const kv = new KvRepo(db);
    kv.set("a", "k", "1");
    kv.set("b", "k", "2");
    assert.equal(kv.delete("a", "k"), true);
    assert.equal(kv.delete("a", "k"), false);
    assert.equal(kv.get("a", "k"), undefined);
    assert.equal(kv.get("b", "k"), "2");
    db.close();
  });

  it("what was written is there after the database is reopened", () => {
    const file = freshFile();
    const db = openDatabase(file);
    new KvRepo(db).set("hook", "lastTrip", "1700000000000");
    db.close();
    const again = openDatabase(file);
    assert.equal(new KvRepo(again).get("hook", "lastTrip"), "1700000000000");
    again.close();
  });

  it("two repositories over one database see each other's writes", () => {
    const db = openDatabase(freshFile());
    const one = new KvRepo(db);
    const two = new KvRepo(db);
    one.set("ns", "k", "v");
    assert.equal(two.get("ns", "k"), "v");
    db.close();
  });
});

describe("hasTable", () => {
  it("tells a migrated database from one the agent never started with", () => {
    const file = freshFile();
    const bare = openDatabase(file, { migrations: [] });
    assert.equal(hasTable(bare, "alarms"), false);
    bare.close();
    const db = openDatabase(file);
    assert.equal(hasTable(db, "alarms"), true);
    assert.equal(hasTable(db, "kv"), true);
    assert.equal(hasTable(db, "no_such_table"), false);
    db.close();
  });
});
