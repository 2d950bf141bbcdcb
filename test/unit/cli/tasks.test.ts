import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { main } from "../../../src/cli/tasks.js";
import { openDatabase } from "../../../src/store/db.js";
import { TasksRepo } from "../../../src/store/tasks-repo.js";

const dir = mkdtempSync(join(tmpdir(), "edge-cli-tasks-"));
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

const publish = { type: "mqtt.publish", topic: "site/x", payload: "on" };

test("lists the tasks with schedule, enabled, next run and the latest runs from the database", async () => {
  mkdirSync(join(dir, "tasks"));
  writeFileSync(
    join(dir, "agent.json"),
    JSON.stringify({
      gatewayId: "gw",
      dataDir: "./data",
      tasksDir: "./tasks",
      timezone: "UTC",
      mqtt: { url: "embedded" },
    }),
  );
  writeFileSync(
    join(dir, "tasks", "lights.json"),
    JSON.stringify([
      {
        id: "lights-off",
        name: "lightsOff",
        schedule: { times: ["22:00"], days: [1, 2, 3, 4, 5] },
        actions: [publish],
      },
      { id: "poll", name: "poll", isEnable: false, schedule: { every: 60 }, actions: [publish] },
    ]),
  );
  // The runs as the scheduler records them.
  mkdirSync(join(dir, "data"));
  const db = openDatabase(join(dir, "data", "edge-agent.db"));
  const repo = new TasksRepo(db);
  const t = Date.UTC(2026, 0, 5, 22);
  const [first, second] = repo.start([
    { taskId: "lights-off", slot: t, trigger: "schedule", started: t, advances: true },
    { taskId: "lights-off", slot: t + 86_400_000, trigger: "manual", started: t + 86_400_000, advances: false },
  ]);
  repo.end([
    { id: first as number, ended: t + 40, status: "ok", actions: [{ index: 0, type: "mqtt.publish", ok: true }] },
    {
      id: second as number,
      ended: t + 86_400_000 + 90,
      status: "failed",
      actions: [{ index: 0, type: "mqtt.publish", ok: false, error: "broker not connected" }],
    },
  ]);
  db.close();

  const a = io();
  assert.equal(await main(["-c", "agent.json", "--runs", "2"], a.io), 0, a.err.join(""));
  const text = a.out.join("");
  const lines = text.split("\n");
  assert.match(lines[0] ?? "", /^ID\s+NAME\s+SCHEDULE\s+ENABLED\s+NEXT RUN\s+LAST RUN\s+STATUS$/);
  assert.match(
    lines[1] ?? "",
    /^lights-off\s+lightsOff\s+at 22:00 on days 1,2,3,4,5\s+yes\s+\d{4}-\d\d-\d\d \d\d:00:00\s+\S+ \S+\s+failed$/,
  );
  assert.match(lines[2] ?? "", /^poll\s+poll\s+every 60 s\s+no\s+-\s+never$/);
  assert.match(text, /lights-off: latest 2 run\(s\)/);
  assert.match(text, /#2 .* manual\s+failed\s+90 ms/);
  assert.match(text, /action 0 \(mqtt\.publish\) failed: broker not connected/);
  assert.match(text, /#1 .* schedule\s+ok\s+40 ms/);

  const j = io();
  assert.equal(await main(["-c", "agent.json", "--json"], j.io), 0);
  const body = JSON.parse(j.out.join("")) as {
    tasks: { id: string; file: string; misfire: string; nextRun: number | null; runs: { id: number }[] }[];
    problems: unknown[];
  };
  assert.deepEqual(
    body.tasks.map((x) => [x.id, x.file, x.misfire, x.runs.map((r) => r.id)]),
    [
      ["lights-off", "lights.json", "skip", [second]],
      ["poll", "lights.json", "skip", []],
    ],
  );
  assert.ok((body.tasks[0]?.nextRun ?? 0) > Date.now());
  assert.equal(body.tasks[1]?.nextRun, null);
  assert.deepEqual(body.problems, []);
});

test("a task file with an error is reported with file, path and reason, and the exit code is 1", async () => {
  writeFileSync(
    join(dir, "tasks", "broken.json"),
    JSON.stringify({ name: "broken", schedule: { cron: "61 * * * *" }, actions: [publish] }),
  );
  const a = io();
  assert.equal(await main(["-c", "agent.json"], a.io), 1);
  const text = a.out.join("");
  assert.match(text, /^lights-off/m, "the valid files are still listed");
  assert.match(
    text,
    new RegExp(
      `error: ${join(dir, "tasks", "broken.json").replace(/[/\\.]/g, "\\$&")}: \\$\\.schedule\\.cron: invalid cron`,
    ),
  );
  rmSync(join(dir, "tasks", "broken.json"));
});

test("usage errors exit 2", async () => {
  const a = io();
  assert.equal(await main(["--runs", "x"], a.io), 2);
  assert.match(a.err.join(""), /--runs must be a whole number/);
});
