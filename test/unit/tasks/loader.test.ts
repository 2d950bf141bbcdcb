import assert from "node:assert/strict";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { type Clock, ManualClock, systemClock } from "../../../src/core/clock.js";
import { TasksLoader } from "../../../src/tasks/loader.js";
import { TaskSet } from "../../../src/tasks/types.js";
import type { TaskCheckContext } from "../../../src/tasks/validate.js";
import { captureLog } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const ctx: TaskCheckContext = { timezone: "UTC", defaultTimeoutMs: 10_000, mqtt: true, modbusDevices: [] };

const task = (name: string, every = 60) => ({
  name,
  schedule: { every },
  actions: [{ type: "mqtt.publish", topic: `site/${name}`, payload: "x" }],
});

let dir: string;
let loader: TasksLoader | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tasks-loader-"));
});
afterEach(async () => {
  await loader?.stop();
  loader = undefined;
  await rm(dir, { recursive: true, force: true });
});

function make(set: TaskSet, clock: Clock = new ManualClock()) {
  const cap = captureLog();
  loader = new TasksLoader({ dir, taskSet: set, log: cap.log, clock, context: async () => ctx, rescanMs: 50 });
  return { loader, cap };
}

test("a file that becomes invalid keeps its last good tasks and reports the problem; fixing it applies the new ones", async () => {
  await writeFile(join(dir, "night.json"), JSON.stringify(task("nightOff")));
  const set = new TaskSet();
  const { loader: l, cap } = make(set);
  await l.start();
  assert.deepEqual(
    set.list().map((t) => [t.def.id, t.def.name, t.file]),
    [["night", "nightOff", "night.json"]],
  );

  await writeFile(join(dir, "night.json"), JSON.stringify({ ...task("nightOff"), schedule: { cron: "0 25 * * *" } }));
  await l.rescan();
  assert.deepEqual(
    set.list().map((t) => t.def.name),
    ["nightOff"],
    "the last good version stays in force",
  );
  const p = l.problems();
  assert.equal(p.length, 1);
  assert.equal(p[0]?.file, join(dir, "night.json"));
  assert.equal(p[0]?.path, "$.schedule.cron");
  const logged = cap.lines.find((x) => (x as { msg?: string }).msg?.startsWith("task file rejected")) as
    | { msg: string; path: string }
    | undefined;
  assert.ok(logged, "the rejection is logged");
  assert.equal(logged.path, "$.schedule.cron");
  assert.match(logged.msg, /its last good version, 1 task\(s\), stays in force/);

  await writeFile(join(dir, "night.json"), JSON.stringify([task("nightOff", 120), task("morningOn")]));
  await l.rescan();
  assert.deepEqual(
    set.list().map((t) => [t.def.id, t.def.name]),
    [
      ["night.0", "nightOff"],
      ["night.1", "morningOn"],
    ],
  );
  assert.deepEqual(l.problems(), []);
});

test("a task id in force from another file refuses the later file, naming both; freeing the id applies it", async () => {
  await writeFile(join(dir, "a.json"), JSON.stringify({ ...task("one"), id: "shared" }));
  await writeFile(join(dir, "b.json"), JSON.stringify({ ...task("two"), id: "shared" }));
  const set = new TaskSet();
  const { loader: l } = make(set);
  await l.start();
  assert.deepEqual(
    set.list().map((t) => [t.def.id, t.file]),
    [["shared", "a.json"]],
  );
  const p = l.problems();
  assert.equal(p.length, 1);
  assert.equal(p[0]?.file, join(dir, "b.json"));
  assert.equal(p[0]?.path, "$.id");
  assert.ok(p[0]?.message.includes(join(dir, "a.json")), p[0]?.message);

  await unlink(join(dir, "a.json"));
  await l.rescan();
  assert.deepEqual(
    set.list().map((t) => [t.def.id, t.def.name, t.file]),
    [["shared", "two", "b.json"]],
  );
  assert.deepEqual(l.problems(), []);
});

test("a removed file takes its tasks out of force; files starting with _ are kept aside", async () => {
  await writeFile(join(dir, "x.json"), JSON.stringify(task("x")));
  await writeFile(join(dir, "_draft.json"), "{ not json");
  const set = new TaskSet();
  const { loader: l } = make(set);
  await l.start();
  assert.equal(set.list().length, 1);
  assert.deepEqual(l.problems(), []);
  await unlink(join(dir, "x.json"));
  await l.rescan();
  assert.equal(set.list().length, 0);
});

test("edits are picked up by watching the directory, without a call", async () => {
  const set = new TaskSet();
  const { loader: l } = make(set, systemClock);
  await l.start();
  assert.equal(set.list().length, 0);
  let changes = 0;
  set.onChange(() => changes++);
  await writeFile(join(dir, "later.json"), JSON.stringify(task("later")));
  await waitFor(() => set.get("later"), { what: "the new task in force" });
  assert.ok(changes >= 1);
});
