import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { main } from "../../../src/cli/outbox.js";
import { openDatabase } from "../../../src/store/db.js";
import { OutboxRepo } from "../../../src/store/outbox-repo.js";
import { OutboxWriter } from "../../../src/upstream/outbox-writer.js";
import { commitChange, testAlarm } from "../../helpers/upstream.js";

const dir = mkdtempSync(join(tmpdir(), "edge-cli-outbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), env: {}, cwd: dir },
  };
}

test("summary and --json: counts, oldest pending age, pause, last error per kind", async () => {
  mkdirSync(join(dir, "data"));
  const db = openDatabase(join(dir, "data", "edge-agent.db"));
  const w = new OutboxWriter({ db });
  const t = Date.now() - 125_000;
  commitChange(db, w, "created", testAlarm("X1", t));
  commitChange(db, w, "created", testAlarm("X2", t + 1, { resource: { id: "m2", product: "meter" } }));
  const repo = new OutboxRepo({ db });
  repo.markDelivered(1, t + 10);
  repo.markDead(2, t + 20, "HTTP 400 from /alert/add code 104001: Miss required parameter");
  repo.setLastError("alert.add", t + 20, "HTTP 400 from /alert/add code 104001: Miss required parameter");
  repo.setPaused({ target: "upstream", since: t + 30, message: "HTTP 401 from /alert/update" }, "upstream");
  commitChange(db, w, "updated", { ...testAlarm("X1", t), status: 2, level: 5, updated: t + 40 });
  db.close();

  writeFileSync(join(dir, "agent.json"), JSON.stringify({ gatewayId: "gw", dataDir: "./data" }));
  const a = io();
  assert.equal(await main(["-c", "agent.json", "--json"], a.io), 0);
  const j = JSON.parse(a.out.join(""));
  assert.equal(j.pending, 1);
  assert.equal(j.delivered, 1);
  assert.equal(j.deadLetters, 1);
  assert.ok(j.oldestPendingAgeS >= 80 && j.oldestPendingAgeS < 200, String(j.oldestPendingAgeS));
  assert.equal(j.paused, true);
  assert.match(j.lastErrors["alert.add"].message, /104001/);
  assert.deepEqual(j.pendingByKind, { "alert.update": 1 });

  const b = io();
  assert.equal(await main(["--db", join("data", "edge-agent.db")], b.io), 0);
  const text = b.out.join("");
  assert.match(text, /pending:\s+1 \(alert\.update 1\)/);
  assert.match(text, /dead-letter:\s+1/);
  assert.match(text, /PAUSED:\s+upstream/);
  assert.match(text, /alert\.add .* ago: HTTP 400/);
});

test("no database yet is not an error; bad flags are usage errors", async () => {
  const a = io();
  assert.equal(await main(["--db", "nowhere/edge-agent.db"], a.io), 0);
  assert.match(a.out.join(""), /no database/);
  const b = io();
  assert.equal(await main(["--bogus"], b.io), 2);
});
