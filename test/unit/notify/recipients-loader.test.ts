// The recipients file kept in force: a missing file is no group and no problem; a bad version is
// reported (file, JSON path, reason; logged) while the last good one stays in force; fixing it puts
// the new one in force and tells the listeners; the watcher picks edits up by itself.

import assert from "node:assert/strict";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { type Clock, ManualClock, systemClock } from "../../../src/core/clock.js";
import { RecipientsLoader } from "../../../src/notify/recipients-loader.js";
import { captureLog } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const users = [
  { id: "u1", realname: "Li Lei", email: "lilei@example.com" },
  { id: "u2", realname: "Han Meimei", email: "hanmm@example.com" },
];
const doc = (groups: unknown[]) => `${JSON.stringify({ users, recipients: groups }, null, 2)}\n`;

let dir: string;
let file: string;
let loader: RecipientsLoader | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "recipients-loader-"));
  file = join(dir, "recipients.json");
});
afterEach(async () => {
  await loader?.stop();
  loader = undefined;
  await rm(dir, { recursive: true, force: true });
});

function make(clock: Clock = new ManualClock()) {
  const cap = captureLog();
  loader = new RecipientsLoader({
    file,
    log: cap.log,
    clock,
    context: { env: {}, email: true, wecom: false },
    rescanMs: 50,
  });
  return { loader, cap };
}

test("a missing file is no group and no problem", async () => {
  const { loader: l, cap } = make();
  await l.start();
  assert.deepEqual(l.list(), []);
  assert.deepEqual(l.problems(), []);
  assert.ok(cap.lines.some((x) => x.msg === "no recipients file: no recipient groups"));
});

test("a bad version keeps the last good groups and reports the problem; fixing it applies the new groups", async () => {
  await writeFile(file, doc([{ id: "night", name: "Night shift", users: ["u1"] }]));
  const { loader: l, cap } = make();
  let changes = 0;
  l.onChange(() => changes++);
  await l.start();
  assert.deepEqual(
    l.get("night")?.users.map((u) => u.id),
    ["u1"],
  );
  assert.equal(changes, 1);

  await writeFile(file, doc([{ id: "night", name: "Night shift", users: ["u1", "u3"], delay: 60 }]));
  await l.rescan();
  assert.deepEqual(
    l.list().map((g) => [g.id, g.delay, g.users.length]),
    [["night", 0, 1]],
    "the last good version stays in force",
  );
  const [p] = l.problems();
  assert.equal(l.problems().length, 1);
  assert.equal(p?.file, file);
  assert.equal(p?.path, "$.recipients[0].users[1]");
  assert.equal(p?.message, "unknown user 'u3'");
  assert.equal(p?.hint, "did you mean 'u1'?");
  const logged = cap.lines.find((x) => x.msg.startsWith("recipients file rejected"));
  assert.ok(logged, "the rejection is logged");
  assert.match(logged.msg, /stays in force/);
  assert.equal(changes, 1, "listeners are not told of a rejected version");

  await writeFile(file, doc([{ id: "night", name: "Night shift", users: ["u1", "u2"], delay: 60 }]));
  await l.rescan();
  assert.deepEqual(
    l.list().map((g) => [g.id, g.delay, g.users.map((u) => u.id)]),
    [["night", 60, ["u1", "u2"]]],
  );
  assert.deepEqual(l.problems(), []);
  assert.equal(changes, 2);
});

test("a file back to the version in force clears the problems of the bad one", async () => {
  const good = doc([{ id: "g", users: ["u1"] }]);
  await writeFile(file, good);
  const { loader: l } = make();
  await l.start();
  await writeFile(file, "{ not json");
  await l.rescan();
  assert.equal(l.problems()[0]?.path, "$");
  assert.equal(l.broken(), true);
  await writeFile(file, good);
  await l.rescan();
  assert.deepEqual(l.problems(), []);
  assert.equal(l.get("g")?.id, "g");
});

test("a deleted file leaves no group", async () => {
  await writeFile(file, doc([{ id: "g", users: ["u1"] }]));
  const { loader: l } = make();
  let changes = 0;
  l.onChange(() => changes++);
  await l.start();
  await unlink(file);
  await l.rescan();
  assert.deepEqual(l.list(), []);
  assert.equal(changes, 2);
});

test("the watcher applies an edit by itself; a neighbour file in the directory changes nothing", async () => {
  await writeFile(file, doc([{ id: "a", users: ["u1"] }]));
  const { loader: l } = make(systemClock);
  await l.start();
  let changes = 0;
  l.onChange(() => changes++);
  await writeFile(join(dir, "agent.json"), "{}");
  await writeFile(file, doc([{ id: "b", users: ["u2"] }]));
  await waitFor(() => l.get("b"), { timeoutMs: 5000, what: "the edited recipients file in force" });
  assert.equal(l.get("a"), undefined);
  assert.equal(changes, 1, "one change for one edit of the file");
});
