import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { main } from "../../../src/cli/outbox.js";
import { openDatabase } from "../../../src/store/db.js";
import { OutboxRepo } from "../../../src/store/outbox-repo.js";
import { OutboxWriter } from "../../../src/store/outbox-writer.js";
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
  // Two notifications by e-mail, one sent; one by WeCom, refused for good.
  const notify = (channel: string, to: string) =>
    repo.insert({
      kind: "notify",
      stream: `notify:X1:${channel}:${to}`,
      alarmId: "X1",
      payload: JSON.stringify({ alarmId: "X1", transition: "raise", audience: "direct", channel, to }),
      created: t + 50,
    });
  const sent = notify("email", "a@example.com");
  notify("email", "b@example.com");
  const refused = notify("wecom", "ghost");
  repo.markDelivered(sent, t + 60);
  repo.markDead(refused, t + 60, "wecom 81013: invalid user");
  db.close();

  writeFileSync(join(dir, "agent.json"), JSON.stringify({ gatewayId: "gw", dataDir: "./data" }));
  const a = io();
  assert.equal(await main(["-c", "agent.json", "--json"], a.io), 0);
  const j = JSON.parse(a.out.join(""));
  assert.equal(j.pending, 2);
  assert.equal(j.delivered, 2);
  assert.equal(j.deadLetters, 2);
  assert.ok(j.oldestPendingAgeS >= 80 && j.oldestPendingAgeS < 200, String(j.oldestPendingAgeS));
  assert.equal(j.paused, true);
  assert.match(j.lastErrors["alert.add"].message, /104001/);
  assert.deepEqual(j.pendingByKind, { "alert.update": 1, notify: 1 });
  assert.deepEqual(j.notifications, {
    email: { pending: 1, sent: 1, skipped: 0, failed: 0 },
    wecom: { pending: 0, sent: 0, skipped: 0, failed: 1 },
  });

  const b = io();
  assert.equal(await main(["--db", join("data", "edge-agent.db")], b.io), 0);
  const text = b.out.join("");
  assert.match(text, /pending:\s+2 \(alert\.update 1, notify 1\)/);
  assert.match(text, /dead-letter:\s+2/);
  assert.match(
    text,
    /notifications:\n {2}email\s+pending 1, sent 1, skipped 0, failed 0\n {2}wecom\s+pending 0, sent 0, skipped 0, failed 1\n/,
  );
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

test("outbox --help documents retry; retry re-queues a dead letter and its dependants; bad input is a usage error", async () => {
  const { dispatch } = await import("../../../src/cli/dispatch.js");
  const help = io();
  assert.equal(await dispatch(["outbox", "--help"], help.io), 0);
  assert.match(help.out.join(""), /edge-agent outbox retry ID/);
  const top = io();
  assert.equal(await dispatch(["--help"], top.io), 0);
  assert.match(top.out.join(""), /outbox\s+retry ID/);

  const file = join(dir, "retry.db");
  const db = openDatabase(file);
  const w = new OutboxWriter({ db });
  const t = Date.now();
  commitChange(db, w, "created", testAlarm("R1", t));
  commitChange(db, w, "resolved", { ...testAlarm("R1", t), status: 0, updated: t + 1, resolvedAt: t + 1 });
  const repo = new OutboxRepo({ db });
  repo.markDead(1, t + 2, "HTTP 400 from /alert/add code 104001: Miss required parameter", {
    code: "104001",
    msg: "Miss required parameter",
  });
  repo.markDead(2, t + 3, "no upstream id: the alarm's /alert/add is dead");
  assert.equal(repo.summary(t).lastDeadLetter?.seq, 2);
  db.close();

  const a = io();
  assert.equal(await main(["retry", "1", "--db", file, "--json"], a.io), 0, a.err.join(""));
  assert.deepEqual(JSON.parse(a.out.join("")), {
    requeued: [
      { seq: 1, kind: "alert.add", alarmId: "R1" },
      { seq: 2, kind: "alert.update", alarmId: "R1" },
    ],
  });
  const check = openDatabase(file, { readonly: true });
  const rows = check.prepare("SELECT seq, state, attempts, next_at FROM outbox ORDER BY seq").all();
  check.close();
  assert.deepEqual(rows, [
    { seq: 1, state: "pending", attempts: 0, next_at: 0 },
    { seq: 2, state: "pending", attempts: 0, next_at: 0 },
  ]);
  const again = io();
  assert.equal(await main(["retry", "1", "--db", file], again.io), 1);
  assert.match(again.err.join(""), /#1 is not a dead letter/);
  for (const args of [["retry"], ["retry", "x1"], ["retry", "1", "2"], ["resend", "1"]]) {
    const b = io();
    assert.equal(await main([...args, "--db", file], b.io), 2, args.join(" "));
  }
});
