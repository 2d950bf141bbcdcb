import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase } from "../../../src/store/db.js";
import { waitFor } from "../../helpers/wait.js";
import { tempDir } from "./setup.js";

const tmp = tempDir();
after(() => tmp.cleanup());

test("kill -9 mid-burst: every alarm announced by alarmCreated is in the database with its outbox row", async () => {
  const file = join(tmp.dir, "burst.db");
  const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/alarms/burst.ts", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    out += s;
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    err += s;
  });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_code, sig) => res(sig)));
  try {
    await waitFor(() => out.split("\n").length > 2000, { timeoutMs: 20_000, what: `2000 alarm ids (stderr: ${err})` });
  } finally {
    child.kill("SIGKILL");
  }
  assert.equal(await exited, "SIGKILL");
  // Only complete lines: a line cut by the kill is not an announcement.
  const ids = out.split("\n").slice(0, -1);
  assert.ok(ids.length >= 2000);
  const db = openDatabase(file);
  try {
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    const has = db.prepare("SELECT count(*) FROM alarms WHERE id = ?").pluck();
    const outbox = db.prepare("SELECT count(*) FROM outbox WHERE alarm_id = ? AND kind = 'alarm.created'").pluck();
    const missing = ids.filter((id) => has.get(id) !== 1);
    assert.deepEqual(missing, [], "announced alarms missing after kill -9");
    assert.deepEqual(
      ids.filter((id) => outbox.get(id) !== 1),
      [],
      "announced alarms without their outbox row",
    );
    // At most one open episode per (rule, device) survived, whatever moment the kill hit.
    const dup = db
      .prepare("SELECT device_id FROM alarms WHERE status > 0 GROUP BY device_id HAVING count(*) > 1")
      .all();
    assert.deepEqual(dup, []);
  } finally {
    db.close();
  }
});
