// kill -9 of a process holding 1,000 pending alarms (SPEC §7): after restart every alarm is
// delivered, each alarm's add before its update, and nothing committed is lost.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase } from "../../../src/store/db.js";
import { OutboxRepo } from "../../../src/store/outbox-repo.js";
import { type FakeUpstream, perAlarmSequence, startUpstream } from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";

const CHILD = join(import.meta.dirname, "../../fixtures/upstream/outbox-child.ts");
const children: ChildProcess[] = [];
let up: FakeUpstream | undefined;
const dir = mkdtempSync(join(tmpdir(), "edge-kill9-"));
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, out: () => out, exited };
}

test("kill -9 with 1,000 pending alarms, restart: all delivered, per-alarm order kept", async () => {
  up = await startUpstream({ delayMs: 3 });
  const dbFile = join(dir, "edge-agent.db");
  const first = run([dbFile, up.url, "write", "1000"]);
  await waitFor(() => first.out().includes("written"), { what: "alarms written", timeoutMs: 30_000 });
  await waitFor(() => up && up.requests.length >= 150, { what: "delivery under way", timeoutMs: 15_000 });
  first.child.kill("SIGKILL");
  await first.exited;
  const atKill = up.requests.length;
  assert.ok(atKill < 2000, `killed mid-drain (${atKill} of 2000 requests)`);

  const second = run([dbFile, up.url, "drain"]);
  await waitFor(() => second.out().includes("drained"), { what: "drained after restart", timeoutMs: 30_000 });
  await second.exited;

  const seq = perAlarmSequence(up);
  assert.equal(seq.size, 1000, "every alarm reached the upstream");
  for (const [id, list] of seq) {
    const firstUpdate = list.indexOf("update:0");
    assert.ok(
      firstUpdate > 0 && list.slice(0, firstUpdate).includes("add"),
      `${id}: add before update (${list.join()})`,
    );
  }
  // at-least-once: only requests in flight at the kill may repeat
  assert.ok(up.requests.length - 2000 <= 16, `duplicates bounded by in-flight (${up.requests.length - 2000})`);
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const s = new OutboxRepo({ db }).summary(Date.now());
    assert.equal(s.pending, 0);
    assert.equal(s.deadLetters, 0);
    assert.equal(s.delivered, 2000);
  } finally {
    db.close();
  }
});
