import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { TaskFiles } from "../../../src/tasks/admin.js";
import { TasksLoader } from "../../../src/tasks/loader.js";
import { TaskSet } from "../../../src/tasks/types.js";
import type { TaskCheckContext } from "../../../src/tasks/validate.js";

const ctx: TaskCheckContext = { timezone: "UTC", defaultTimeoutMs: 10_000, mqtt: true, modbusDevices: [] };
const NOW = Date.UTC(2026, 5, 1, 12);

const body = {
  name: "lightsOff",
  schedule: { cron: "0 22 * * 1-5" },
  actions: [{ type: "mqtt.publish", topic: "site/lights", payload: { on: false } }],
};

let dir: string;
let set: TaskSet;
let loader: TasksLoader;
let files: TaskFiles;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tasks-admin-"));
  set = new TaskSet();
  const log = silentLogger();
  const context = async () => ctx;
  loader = new TasksLoader({ dir, taskSet: set, log, clock: new ManualClock(), context });
  files = new TaskFiles({ loader, taskSet: set, log, context, now: () => NOW });
  await loader.start();
});
afterEach(async () => {
  await loader.stop();
  await rm(dir, { recursive: true, force: true });
});

const json = async (name: string) => JSON.parse(await readFile(join(dir, name), "utf8")) as Record<string, unknown>;

test("add writes <id>.json with a platform id and the times, as written, and puts it in force at once", async () => {
  const r = await files.add(body);
  assert.ok(r.ok, JSON.stringify(r));
  const id = r.value.def.id;
  assert.match(id, /^[0-9a-f]{24}$/);
  assert.equal(r.value.file, `${id}.json`);
  assert.equal(set.get(id)?.def.name, "lightsOff");
  const onDisk = await json(`${id}.json`);
  // Defaults are applied in force, not written into the file.
  assert.equal(set.get(id)?.def.misfire, "skip");
  assert.equal(onDisk.misfire, undefined);
  assert.deepEqual(onDisk, { id, ...body, created: NOW, updated: NOW });
  // The watcher then finds the file's text in force: nothing changes on the next scan.
  let changes = 0;
  set.onChange(() => changes++);
  await loader.rescan();
  assert.equal(changes, 0);
});

test("add validates exactly like a file, and refuses an id in force", async () => {
  const bad = await files.add({ ...body, schedule: { times: ["25:00"] } });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.problems[0]?.path, "$.schedule.times[0]");
  assert.deepEqual(await readdir(dir), [], "nothing written");
  assert.ok((await files.add({ ...body, id: "lights" })).ok);
  const again = await files.add({ ...body, id: "lights" });
  assert.equal(again.ok, false);
  assert.match(!again.ok ? (again.problems[0]?.message ?? "") : "", /already exists/);
});

test("update changes the fields given (null removes one) inside a file of several tasks, keeping the others", async () => {
  await writeFile(
    join(dir, "site.json"),
    JSON.stringify([body, { ...body, name: "lightsOn", description: "morning", schedule: { times: ["06:00"] } }]),
  );
  await loader.rescan();
  assert.deepEqual(
    set.list().map((t) => t.def.id),
    ["site.0", "site.1"],
  );
  const r = await files.update({ id: "site.1", isEnable: false, description: null });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(set.get("site.1")?.def.isEnable, false);
  const onDisk = (await json("site.json")) as unknown as Record<string, unknown>[];
  assert.equal(onDisk.length, 2);
  // Every task of a rewritten file gets its id written in: a derived id survives a neighbour's deletion.
  assert.deepEqual(
    onDisk.map((t) => t.id),
    ["site.0", "site.1"],
  );
  assert.equal(onDisk[1]?.isEnable, false);
  assert.equal("description" in (onDisk[1] ?? {}), false);
  assert.equal(onDisk[1]?.updated, NOW);

  const bad = await files.update({ id: "site.0", misfire: "twice" });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.problems[0]?.path, "$.misfire");
  assert.equal(set.get("site.0")?.def.misfire, "skip");

  const missing = await files.update({ id: "nope", isEnable: false });
  assert.equal(!missing.ok && missing.notFound, true);
});

test("del answers the deleted task; the last task of a file deletes the file", async () => {
  await writeFile(join(dir, "site.json"), JSON.stringify([body, { ...body, name: "lightsOn" }]));
  await loader.rescan();
  const first = await files.del("site.0");
  assert.ok(first.ok);
  assert.equal(first.value.def.name, "lightsOff");
  assert.deepEqual(
    ((await json("site.json")) as unknown as Record<string, unknown>[]).map((t) => t.id),
    ["site.1"],
  );
  assert.equal(set.get("site.1")?.def.name, "lightsOn", "the neighbour keeps its id");
  const second = await files.del("site.1");
  assert.ok(second.ok);
  assert.deepEqual(await readdir(dir), []);
  assert.equal(set.list().length, 0);
});

test("a file broken on disk is not rewritten from its last good version", async () => {
  await writeFile(join(dir, "site.json"), JSON.stringify(body));
  await loader.rescan();
  await writeFile(join(dir, "site.json"), "{ broken");
  await loader.rescan();
  const r = await files.update({ id: "site", isEnable: false });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? (r.problems[0]?.message ?? "") : "", /fix the file first/);
  assert.equal(await readFile(join(dir, "site.json"), "utf8"), "{ broken");
});
