// MaintenanceRepo over a real SQLite file: one row per device (a second put replaces it), null
// `until` kept as null, removal, and what was written is there after the database is reopened.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openDatabase } from "../../../src/store/db.js";
import { MaintenanceRepo } from "../../../src/store/maintenance-repo.js";

const root = mkdtempSync(join(tmpdir(), "ea-maintenance-repo-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("MaintenanceRepo", () => {
  it("puts, replaces, removes, and keeps rows across a reopen", () => {
    const file = join(root, "m.db");
    let db = openDatabase(file);
    let repo = new MaintenanceRepo(db);
    assert.deepEqual(repo.load(), []);
    repo.put({ deviceId: "b", since: 10, until: null, reason: "", by: "api" });
    repo.put({ deviceId: "a", since: 5, until: 100, reason: "panel work", by: "cli" });
    repo.put({ deviceId: "a", since: 5, until: 200, reason: "panel work, day 2", by: "hook:site" });
    repo.put({ deviceId: "constructor", since: 1, until: null, reason: "x", by: "page" });
    repo.remove("constructor");
    repo.remove("never-there");
    db.close();
    db = openDatabase(file);
    repo = new MaintenanceRepo(db);
    assert.deepEqual(repo.load(), [
      { deviceId: "a", since: 5, until: 200, reason: "panel work, day 2", by: "hook:site" },
      { deviceId: "b", since: 10, until: null, reason: "", by: "api" },
    ]);
    db.close();
  });
});
