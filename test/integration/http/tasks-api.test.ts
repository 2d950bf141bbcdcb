// Task CRUD and manual runs through the API with the real file-backed task admin: tasks land in
// tasksDir as files, take effect at once, and the API answers in the platform's shapes (the task
// object; lists {total, offset, limit, tasks}) with the agent's facts (file, problems, nextRun,
// runs) beside them. The scheduler is a small stand-in: what the API asks of it is the contract.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, it } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { TaskFiles } from "../../../src/tasks/admin.js";
import { TasksLoader } from "../../../src/tasks/loader.js";
import type { TaskList, TaskShape } from "../../../src/tasks/shapes.js";
import { type TaskRun, type TaskRuntime, TaskSet } from "../../../src/tasks/types.js";
import type { TaskCheckContext } from "../../../src/tasks/validate.js";
import { runStatusPage } from "../../helpers/status-page-runner.js";
import { waitFor } from "../../helpers/wait.js";
import { type Harness, startHarness, TOKEN } from "./fixtures.js";

/** Records manual runs; answers runs newest first and a fixed next slot for enabled tasks. */
class FakeRuntime implements TaskRuntime {
  readonly started: TaskRun[] = [];
  constructor(
    readonly set: TaskSet,
    readonly now: () => number,
  ) {}
  runs(taskId: string, limit: number): TaskRun[] {
    return this.started
      .filter((r) => r.taskId === taskId)
      .reverse()
      .slice(0, limit);
  }
  nextRun(taskId: string): number | null {
    return this.set.get(taskId)?.def.isEnable ? this.now() + 60_000 : null;
  }
  async runNow(taskId: string): Promise<TaskRun | undefined> {
    if (!this.set.get(taskId)) return undefined;
    const t = this.now();
    const run: TaskRun = {
      id: this.started.length + 1,
      taskId,
      slot: t,
      trigger: "manual",
      started: t,
      ended: null,
      status: "running",
      actions: [],
    };
    this.started.push(run);
    return run;
  }
}

const ctx: TaskCheckContext = {
  timezone: "UTC",
  defaultTimeoutMs: 10_000,
  mqtt: true,
  modbusDevices: [
    { id: "pump-01", points: [{ name: "pump_run", table: "coil", address: 0, type: "bool", writable: true }] },
  ],
};

const task = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  schedule: { times: ["22:00"] },
  actions: [{ type: "modbus.write", device: "pump-01", point: "pump_run", value: false }],
  ...over,
});

let h: Harness;
let dir: string;
let set: TaskSet;
let loader: TasksLoader;
let runtime: FakeRuntime;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-agent-http-tasks-"));
  set = new TaskSet();
  const log = silentLogger();
  const context = async () => ctx;
  let clockNow = () => 0;
  loader = new TasksLoader({ dir, taskSet: set, log, clock: new ManualClock(), context });
  const files = new TaskFiles({ loader, taskSet: set, log, context, now: () => clockNow() });
  runtime = new FakeRuntime(set, () => clockNow());
  h = await startHarness({ tasks: { tasks: files, runtime } });
  clockNow = () => h.clock.now();
});

after(async () => {
  await h.api.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const t of set.list()) assert.equal((await h.post("/task/del", { id: t.def.id })).status, 200);
});

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;

it("add writes a file and puts the task in force; get answers it with file, nextRun and runs; del removes it", async () => {
  const now = h.clock.now();
  const add = await h.post("/task/add", task("pumpNightOff", { id: "pump-night" }));
  assert.equal(add.status, 200, await add.clone().text());
  const added = (await add.json()) as TaskShape;
  assert.equal(added.id, "pump-night");
  assert.equal(added.file, "pump-night.json");
  assert.equal(added.isEnable, true);
  assert.equal(added.misfire, "skip");
  assert.equal(added.created, now);
  assert.equal(added.nextRun, now + 60_000);
  assert.equal(set.get("pump-night")?.def.name, "pumpNightOff");
  assert.ok(existsSync(join(dir, "pump-night.json")));

  h.clock.advance(1000);
  const upd = await json<TaskShape>(h.post("/task/update", { id: "pump-night", isEnable: false, file: "ignored" }));
  assert.equal(upd.isEnable, false);
  assert.equal(upd.updated, now + 1000);
  assert.equal(upd.created, now, "fields not given are kept");
  assert.equal(upd.nextRun, null);
  assert.equal(JSON.parse(readFileSync(join(dir, "pump-night.json"), "utf8")).isEnable, false);

  const run = await json<TaskRun>(h.post("/task/run", { id: "pump-night" }));
  assert.equal(run.trigger, "manual");
  assert.equal(run.taskId, "pump-night");
  const got = await json<TaskShape>(h.get("/task/get?id=pump-night"));
  assert.equal(got.file, "pump-night.json");
  assert.deepEqual(got.runs, [run]);
  assert.deepEqual(got.lastRun, run);

  const del = await json<TaskShape>(h.post("/task/del", { id: "pump-night" }));
  assert.equal(del.name, "pumpNightOff", "del answers the deleted task");
  assert.equal(existsSync(join(dir, "pump-night.json")), false);
  assert.equal(set.get("pump-night"), undefined);
});

it("list pages, orders and searches in the platform's shape", async () => {
  for (const [id, name, enabled] of [
    ["t-a", "charlie", true],
    ["t-b", "alpha", false],
    ["t-c", "bravo", true],
  ] as const) {
    assert.equal(
      (await h.post("/task/add", task(name, { id, isEnable: enabled, description: `task ${name}` }))).status,
      200,
    );
    h.clock.advance(1000);
  }
  const all = await json<TaskList>(h.get("/task/list"));
  assert.equal(all.total, 3);
  assert.equal(all.offset, 0);
  assert.equal(all.limit, 100);
  assert.deepEqual(
    all.tasks.map((t) => t.id),
    ["t-a", "t-b", "t-c"],
  );
  const byName = await json<TaskList>(h.get("/task/list?orderBy=name&order=desc&offset=1&limit=1"));
  assert.equal(byName.total, 3);
  assert.deepEqual(
    byName.tasks.map((t) => t.name),
    ["bravo"],
  );
  const enabled = await json<TaskList>(h.get("/task/list?orderBy=isEnable"));
  assert.equal(enabled.tasks[0]?.name, "alpha", "false sorts before true");
  const q = await json<TaskList>(h.get("/task/list?q=BRAV"));
  assert.deepEqual(
    q.tasks.map((t) => t.id),
    ["t-c"],
  );
  const byId = await json<TaskList>(h.get("/task/list?q=t-a"));
  assert.equal(byId.total, 1);
});

it("refusals: 104004 for an unknown id, 104001 naming the offending field", async () => {
  for (const res of [
    await h.get("/task/get?id=nope"),
    await h.post("/task/update", { id: "nope", isEnable: false }),
    await h.post("/task/del", { id: "nope" }),
    await h.post("/task/run", { id: "nope" }),
  ]) {
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: number }).code, 104004);
  }
  const bad = await h.post("/task/add", task("x", { schedule: { times: ["25:00"] } }));
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { code: number; field: string; message: string; problems: unknown[] };
  assert.equal(body.code, 104001);
  assert.equal(body.field, "schedule.times[0]");
  assert.match(body.message, /25:00/);
  const write = await h.post(
    "/task/add",
    task("x", { actions: [{ type: "modbus.write", device: "pump-01", point: "pump_rn", value: 1 }] }),
  );
  const wb = (await write.json()) as { field: string; message: string };
  assert.equal(wb.field, "actions[0].point");
  assert.match(wb.message, /did you mean 'pump_run'/);
  const order = await json<{ code: number; field: string }>(h.get("/task/list?orderBy=colour"));
  assert.deepEqual([order.code, order.field], [104001, "orderBy"]);
  const noId = await json<{ code: number; field: string }>(h.post("/task/run", {}));
  assert.deepEqual([noId.code, noId.field], [104001, "id"]);
});

it("a task file edited on disk shows in the list, and its problems with it", async () => {
  await writeFile(join(dir, "edited.json"), JSON.stringify(task("edited")));
  await loader.rescan();
  const list = await json<TaskList>(h.get("/task/list?q=edited"));
  assert.equal(list.tasks[0]?.id, "edited");
  await writeFile(join(dir, "edited.json"), JSON.stringify(task("edited", { misfire: "twice" })));
  await loader.rescan();
  const after = await json<TaskList>(h.get("/task/list?q=edited"));
  assert.equal(after.tasks[0]?.misfire, "skip", "the last good version stays in force");
  assert.deepEqual(
    after.problems.map((p) => p.path),
    ["$.misfire"],
  );
  const got = await json<TaskShape>(h.get("/task/get?id=edited"));
  assert.deepEqual(
    got.problems?.map((p) => p.path),
    ["$.misfire"],
  );
  const status = await json<{
    data: { tasks: { count: number; tasks: { id: string; nextRun: number | null }[]; problems: unknown[] } };
  }>(h.get("/status"));
  assert.equal(status.data.tasks.count, 1);
  assert.equal(status.data.tasks.tasks[0]?.id, "edited");
  assert.equal(status.data.tasks.tasks[0]?.nextRun, h.clock.now() + 60_000);
  assert.equal(status.data.tasks.problems.length, 1);
  // Fixed again: the new version is in force and nothing is wrong.
  await writeFile(join(dir, "edited.json"), JSON.stringify(task("edited", { misfire: "once" })));
  await loader.rescan();
  assert.equal(set.get("edited")?.def.misfire, "once");
  assert.deepEqual((await json<TaskList>(h.get("/task/list"))).problems, []);
});

it("every task route needs the token", async () => {
  const res = await fetch(`${h.base}/task/list`);
  assert.equal(res.status, 401);
  const wrong = await fetch(`${h.base}/task/run`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}x`, "Content-Type": "application/json" },
    body: JSON.stringify({ id: "x" }),
  });
  assert.equal(wrong.status, 401);
});

it("the status page lists the tasks, and its Run now button starts a run", async () => {
  assert.equal((await h.post("/task/add", task("pagePump", { id: "page-pump" }))).status, 200);
  const alerts: string[] = [];
  const page = runStatusPage(h.base, TOKEN, { window: { alert: (m: string) => alerts.push(m) } });
  try {
    const row = await waitFor(
      () => page.byId("task-rows").children.find((r) => r.getAttribute("data-task-id") === "page-pump"),
      { what: "the task's row on the status page" },
    );
    assert.equal(page.byId("tasks-section").hidden, false);
    const cells = row.children.map((c) => c.textContent);
    assert.deepEqual(cells.slice(0, 3), ["pagePump (page-pump)", "at 22:00", "yes"]);
    assert.equal(cells[4], "never");
    const before = runtime.started.length;
    const button = row.findAll((e) => e.getAttribute("data-task-run") === "page-pump")[0];
    assert.ok(button);
    button.click();
    await waitFor(() => runtime.started.length === before + 1, { what: "the manual run" });
    assert.equal(runtime.started.at(-1)?.taskId, "page-pump");
    assert.deepEqual(alerts, []);
  } finally {
    page.close();
  }
});
