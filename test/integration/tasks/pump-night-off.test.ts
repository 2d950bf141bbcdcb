// The site engineer's task, end to end: the bundled example "every weekday at 22:00 set coil
// pump_run of pump-01 to false, then post to this webhook", copied into tasksDir with only its slot
// moved to a second from now (same weekday rule, same time zone), runs through the whole agent on
// time: the coil of a real Modbus server goes to 0, the webhook is posted, the run is recorded and
// shown by /task/get, /status and the status page — and it runs once, not again until next week.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createAgent } from "../../../src/app.js";
import type { Config } from "../../../src/config/schema.js";
import { systemClock } from "../../../src/core/clock.js";
import { localParts } from "../../../src/core/local-time.js";
import type { TaskRun } from "../../../src/tasks/types.js";
import { resolvedConfig } from "../../helpers/config.js";
import { captureLog } from "../../helpers/harness.js";
import { startModbusServer } from "../../helpers/modbus.js";
import { runStatusPage } from "../../helpers/status-page-runner.js";
import { startUpstream } from "../../helpers/upstream.js";
import { freePort, waitFor } from "../../helpers/wait.js";

const EXAMPLE = join(import.meta.dirname, "../../../tasks/examples/pump-night-off.json");
const TOKEN = "site-token-0123456789";
const WEEK_MS = 7 * 86_400_000;

test("the example pump task runs at its slot through the agent, once, recorded and shown", async () => {
  const root = mkdtempSync(join(tmpdir(), "ea-pump-task-"));
  mkdirSync(join(root, "rules"));
  mkdirSync(join(root, "tasks"));
  const modbus = await startModbusServer();
  modbus.slave.memory.coils[0] = 1;
  const hooks = await startUpstream();

  const example = JSON.parse(readFileSync(EXAMPLE, "utf8"));
  const tz: string = example.timezone;
  // The slot: a whole second a few seconds away (the agent is started by then), on its weekday in the task's zone.
  const slot = Math.ceil((Date.now() + 5000) / 1000) * 1000;
  const p = localParts(slot, tz);
  const hms = [p.hour, p.minute, p.second].map((n) => String(n).padStart(2, "0")).join(":");
  const task = {
    ...example,
    schedule: { times: [hms], days: [p.weekday] },
    actions: example.actions.map((a: { type: string }) =>
      a.type === "webhook" ? { ...a, url: `${hooks.url}/site/pump-night-off` } : a,
    ),
  };
  writeFileSync(join(root, "tasks", "pump-night-off.json"), JSON.stringify(task, null, 2));

  const config = resolvedConfig({
    gatewayId: "gw-pump",
    dataDir: join(root, "data"),
    rulesDir: join(root, "rules"),
    hooksDir: join(root, "hooks"),
    tasksDir: join(root, "tasks"),
    http: { enabled: true, host: "127.0.0.1", port: await freePort(), token: TOKEN },
    modbus: {
      buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: modbus.port, timeoutMs: 500 }],
      devices: [
        {
          id: "pump-01",
          bus: "plant",
          unitId: 1,
          product: "pump",
          intervalMs: 60_000,
          points: [{ name: "pump_run", table: "coil", address: 0, type: "bool", writable: true }],
        },
      ],
    },
  } as Config);
  const agent = createAgent(config, { clock: systemClock, log: captureLog().log, version: "test" });
  const base = `http://127.0.0.1:${config.http.port}`;
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(base + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as T;
  };
  try {
    await agent.start();
    assert.ok(Date.now() < slot - 500, "the agent started well before the slot (else the slot is not owed)");
    type Got = { id: string; runs: TaskRun[]; nextRun: number | null; problems?: unknown[] };
    const before = await api<Got>("/task/get?id=pump-night-off");
    assert.equal(before.problems, undefined, "no problem with the file");
    assert.equal(before.nextRun, slot, "planned for the slot written in the file");
    assert.deepEqual(before.runs, []);

    const got = await waitFor(
      async () => {
        const g = await api<Got>("/task/get?id=pump-night-off");
        return g.runs.some((r) => r.status !== "running") ? g : undefined;
      },
      { what: "the task's run, ended", timeoutMs: 20_000 },
    );
    const run = got.runs[0] as TaskRun;
    assert.equal(run.trigger, "schedule");
    assert.equal(run.slot, slot);
    assert.ok(run.started >= slot && run.started - slot < 1000, `started ${run.started - slot} ms after its slot`);
    assert.equal(run.status, "ok", JSON.stringify(run.actions));
    assert.deepEqual(
      run.actions.map((a) => [a.type, a.ok, a.attempts]),
      [
        ["modbus.write", true, 1],
        ["webhook", true, 1],
      ],
    );
    // The coil really went to 0, then the webhook was posted, in that order.
    assert.equal(modbus.slave.memory.coils[0], 0);
    const posted = hooks.paths("/site/pump-night-off");
    assert.equal(posted.length, 1);
    const body = posted[0]?.json as { task: { id: string; name: string }; slot: number; trigger: string };
    assert.deepEqual(
      [body.task.id, body.task.name, body.slot, body.trigger],
      ["pump-night-off", "pumpNightOff", slot, "schedule"],
    );
    assert.ok((run.actions[1]?.startedAt ?? 0) >= (run.actions[0]?.startedAt ?? Infinity));
    // Once: the next slot is the same time next week (a DST change in between moves it by an hour).
    assert.ok(got.nextRun !== null && Math.abs(got.nextRun - (slot + WEEK_MS)) <= 3_600_000, String(got.nextRun));
    assert.equal(got.runs.length, 1);

    // /status and the status page show the run.
    const { data: status } = await api<{
      data: { tasks: { tasks: { id: string; lastRun: { status: string } | null }[] } };
    }>("/status");
    assert.equal(status.tasks.tasks.find((t) => t.id === "pump-night-off")?.lastRun?.status, "ok");
    const page = runStatusPage(base, TOKEN);
    try {
      const row = await waitFor(
        () => page.byId("task-rows").children.find((r) => r.getAttribute("data-task-id") === "pump-night-off"),
        { what: "the task's row on the status page" },
      );
      const cells = row.children.map((c) => c.textContent ?? "");
      assert.equal(cells[0], "pumpNightOff (pump-night-off)");
      assert.match(cells.join(" | "), /\bok\b/);
    } finally {
      page.close();
    }
  } finally {
    await agent.stop();
    await hooks.close();
    await modbus.close();
    rmSync(root, { recursive: true, force: true });
  }
});
