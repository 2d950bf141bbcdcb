// The scheduler on a manual clock over a real SQLite file: each slot runs once whatever the clock
// does, missed slots follow the misfire policy, disabled tasks stay quiet, a hung action neither
// delays the next slot nor runs forever, and the runs table stays bounded.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import type { HookInvoker, MqttPublisher } from "../../../src/core/ports.js";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { TasksRepo } from "../../../src/store/tasks-repo.js";
import { TaskScheduler } from "../../../src/tasks/scheduler.js";
import { type TaskAction, type TaskDefinition, type TaskRun, TaskSet } from "../../../src/tasks/types.js";
import { captureLog, type LogCapture, testBus } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 30);

/** The agent's MQTT connection as the scheduler sees it: records, or fails the next `failures` publishes. */
class Publisher implements MqttPublisher {
  readonly sent: { topic: string; payload: string }[] = [];
  failures = 0;
  async publish(topic: string, payload: string | Buffer): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("broker refused");
    }
    this.sent.push({ topic, payload: payload.toString() });
  }
}

/** A hook that never answers. */
class HungHook implements HookInvoker {
  calls = 0;
  invoke(): Promise<unknown> {
    this.calls++;
    return new Promise(() => undefined);
  }
}

function task(over: Partial<TaskDefinition> & { id: string }): TaskDefinition {
  return {
    name: over.id,
    isEnable: true,
    schedule: { every: 60 },
    misfire: "skip",
    timeoutMs: 10_000,
    actions: [{ type: "mqtt.publish", topic: `t/${over.id}`, payload: "go" }],
    ...over,
  };
}

interface Rig {
  clock: ManualClock;
  db: Db;
  set: TaskSet;
  mqtt: Publisher;
  hooks: HungHook;
  logs: LogCapture;
  sched: TaskScheduler;
  make(opts?: { runsPerTask?: number; runRetentionDays?: number }): TaskScheduler;
}

let dir: string;
let rig: Rig;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tasks-sched-"));
  const clock = new ManualClock(T0);
  const db = openDatabase(join(dir, "agent.db"));
  const set = new TaskSet();
  const mqtt = new Publisher();
  const hooks = new HungHook();
  const logs = captureLog();
  const make = (opts: { runsPerTask?: number; runRetentionDays?: number } = {}) =>
    new TaskScheduler({
      tasks: set,
      repo: new TasksRepo(db),
      clock,
      log: logs.log,
      events: testBus(),
      ports: { mqtt, hooks },
      timezone: "UTC",
      ...opts,
    });
  rig = { clock, db, set, mqtt, hooks, logs, sched: make(), make };
});

afterEach(async () => {
  await rig.sched.stop();
  rig.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const load = (...defs: TaskDefinition[]) => rig.set.replace(defs.map((def) => ({ def, file: `${def.id}.json` })));

/** Runs of a task, oldest first, once none is running. */
async function settled(id: string, count: number): Promise<TaskRun[]> {
  return waitFor(
    () => {
      const runs = rig.sched.runs(id, 1000).reverse();
      return runs.length === count && runs.every((r) => r.status !== "running") ? runs : false;
    },
    { timeoutMs: 5000, what: `${count} finished runs of ${id} (have ${rig.sched.runs(id, 1000).length})` },
  );
}

const at = (minutes: number) => Date.UTC(2026, 0, 1, 0, minutes);

/**
 * Lets `ms` pass in steps, giving the runs started in each step the turn of the event loop their
 * actions need: a single advance() would pass every deadline before any action could answer.
 */
async function pass(ms: number, stepMs = 500): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    rig.clock.advance(Math.min(stepMs, left));
    await new Promise((r) => setImmediate(r));
  }
}

describe("slots", () => {
  test("a slot runs once, at its time, and is logged once", async () => {
    load(task({ id: "lights" }));
    await rig.sched.start();
    assert.equal(rig.sched.nextRun("lights"), at(1));
    rig.clock.advance(29_999);
    assert.equal(rig.sched.runs("lights", 10).length, 0);
    rig.clock.advance(1);
    await settled("lights", 1);
    await pass(30_000);
    const [run] = await settled("lights", 1);
    assert.equal(run?.slot, at(1));
    assert.equal(run?.started, at(1));
    assert.equal(run?.trigger, "schedule");
    assert.equal(run?.status, "ok");
    assert.equal(run?.actions[0]?.ok, true);
    assert.equal(rig.mqtt.sent.length, 1);
    assert.equal(rig.sched.nextRun("lights"), at(2));
    assert.equal(rig.logs.lines.filter((l) => l.msg === "task lights ran: ok").length, 1);
  });

  test("clock stepped back one hour, then forward one hour: every slot runs exactly once, in order", async () => {
    load(task({ id: "pump", schedule: { every: 600 } }));
    await rig.sched.start();
    rig.clock.advance(30 * MIN); // 00:10, 00:20, 00:30
    await settled("pump", 3);
    rig.clock.setWallTime(rig.clock.now() - HOUR); // NTP steps back to 23:30:30
    rig.clock.advance(60 * MIN); // back at 00:30:30: the hour is lived again, nothing reruns
    await settled("pump", 3);
    rig.clock.advance(30 * MIN); // 00:40, 00:50, 01:00
    await settled("pump", 6);
    rig.clock.setWallTime(rig.clock.now() + HOUR); // steps forward to 02:00:30
    rig.clock.advance(30_000); // noticed within the 30 s cap: 01:10 … 02:00
    const runs = await settled("pump", 12);
    const slots = runs.map((r) => r.slot);
    const expected = Array.from({ length: 12 }, (_, i) => at(10 * (i + 1)));
    assert.deepEqual(slots, expected);
  });

  test("a forward jump of more than ten slots runs only the latest, and says so", async () => {
    load(task({ id: "tick", schedule: { every: 60 } }));
    await rig.sched.start();
    rig.clock.setWallTime(T0 + 3 * HOUR);
    rig.clock.advance(30_000);
    const runs = await settled("tick", 1);
    assert.equal(runs[0]?.slot, at(181));
    assert.ok(rig.logs.lines.some((l) => l.level === 40 && /more than 10 slots fell due at once/.test(l.msg)));
  });

  test("a disabled task does not run and has no next run", async () => {
    load(task({ id: "off", isEnable: false }));
    await rig.sched.start();
    rig.clock.advance(10 * MIN);
    await new Promise((r) => setImmediate(r));
    assert.equal(rig.sched.nextRun("off"), null);
    assert.equal(rig.sched.runs("off", 10).length, 0);
    assert.equal(rig.mqtt.sent.length, 0);
    // Enabled later: it starts from then, owing nothing.
    load(task({ id: "off", isEnable: true }));
    assert.equal(rig.sched.nextRun("off"), at(11));
  });

  test("a removed task runs no more; its run in progress completes", async () => {
    load(task({ id: "slow", actions: [{ type: "hook", hook: "h", method: "m", timeoutMs: 5000 }] }));
    await rig.sched.start();
    rig.clock.advance(30_000);
    await waitFor(() => rig.hooks.calls === 1, { what: "the hook called" });
    load();
    rig.clock.advance(5000);
    const [run] = await settled("slow", 1);
    assert.equal(run?.status, "failed");
    rig.clock.advance(10 * MIN);
    await new Promise((r) => setImmediate(r));
    assert.equal(rig.hooks.calls, 1);
    assert.equal(rig.sched.nextRun("slow"), null);
  });
});

describe("missed slots across a restart", () => {
  async function downAcrossSlots(misfire: "once" | "skip"): Promise<void> {
    load(task({ id: "report", schedule: { every: 3600 }, misfire }));
    await rig.sched.start();
    rig.clock.advance(HOUR); // 01:00 runs
    await settled("report", 1);
    await rig.sched.stop();
    rig.clock.setWallTime(Date.UTC(2026, 0, 1, 4, 30)); // down across 02:00, 03:00, 04:00
    rig.sched = rig.make();
    await rig.sched.start();
  }

  test('misfire "once": the most recent missed slot runs once, as a misfire', async () => {
    await downAcrossSlots("once");
    const runs = await settled("report", 2);
    assert.equal(runs[1]?.trigger, "misfire");
    assert.equal(runs[1]?.slot, Date.UTC(2026, 0, 1, 4));
    assert.equal(rig.sched.nextRun("report"), Date.UTC(2026, 0, 1, 5));
    // Restarted again at once: the missed slot is not run a second time.
    await rig.sched.stop();
    rig.sched = rig.make();
    await rig.sched.start();
    await new Promise((r) => setImmediate(r));
    await settled("report", 2);
  });

  test('misfire "skip": nothing runs until the next slot', async () => {
    await downAcrossSlots("skip");
    await new Promise((r) => setImmediate(r));
    await settled("report", 1);
    rig.clock.advance(30 * MIN);
    const runs = await settled("report", 2);
    assert.equal(runs[1]?.trigger, "schedule");
    assert.equal(runs[1]?.slot, Date.UTC(2026, 0, 1, 5));
  });

  test("restarted with the clock an hour behind: the slots already run are not run again", async () => {
    load(task({ id: "meter-read", schedule: { every: 600 }, misfire: "once" }));
    await rig.sched.start();
    await pass(30 * MIN, 5000); // 00:10, 00:20, 00:30
    await settled("meter-read", 3);
    await rig.sched.stop();
    rig.clock.setWallTime(rig.clock.now() - HOUR); // restarted on a clock an hour behind
    rig.sched = rig.make();
    await rig.sched.start();
    assert.equal(rig.sched.nextRun("meter-read"), at(40));
    await pass(70 * MIN, 5000); // back past 00:40
    const runs = await settled("meter-read", 4);
    assert.deepEqual(
      runs.map((r) => [r.slot, r.trigger]),
      [
        [at(10), "schedule"],
        [at(20), "schedule"],
        [at(30), "schedule"],
        [at(40), "schedule"],
      ],
    );
  });

  test("a task first seen after start starts from now, even with misfire once", async () => {
    await rig.sched.start();
    load(task({ id: "fresh", schedule: { every: 3600 }, misfire: "once" }));
    await new Promise((r) => setImmediate(r));
    assert.equal(rig.sched.runs("fresh", 10).length, 0);
    assert.equal(rig.sched.nextRun("fresh"), Date.UTC(2026, 0, 1, 1));
  });
});

describe("actions", () => {
  test("a hung action is timed out, and the next slot's run starts on time meanwhile", async () => {
    const hung: TaskAction = { type: "hook", hook: "h", method: "m", timeoutMs: 90_000 };
    load(task({ id: "stuck", actions: [hung] }));
    await rig.sched.start();
    rig.clock.advance(30_000); // 00:01: the first run hangs
    rig.clock.advance(60_000); // 00:02: the second starts on time
    await waitFor(() => rig.hooks.calls === 2, { what: "two runs started" });
    const running = rig.sched.runs("stuck", 10).reverse();
    assert.deepEqual(
      running.map((r) => [r.slot, r.started, r.status]),
      [
        [at(1), at(1), "running"],
        [at(2), at(2), "running"],
      ],
    );
    rig.clock.advance(30_000); // 00:02:30: the first try of the first run passes its 90 s
    await waitFor(() => rig.sched.runs("stuck", 10).some((r) => r.status === "failed"), { what: "first run ended" });
    const first = rig.sched.runs("stuck", 10).reverse()[0];
    assert.equal(first?.status, "failed");
    assert.equal(first?.ended, at(2) + 30_000);
    assert.equal(first?.actions[0]?.error, "timed out after 90000 ms");
  });

  test("an action failing twice then succeeding, with 3 attempts, is ok after 3 tries", async () => {
    rig.mqtt.failures = 2;
    const action: TaskAction = {
      type: "mqtt.publish",
      topic: "t",
      payload: { on: true },
      retry: { attempts: 3, delayMs: 1000 },
    };
    load(task({ id: "retry", actions: [action] }));
    await rig.sched.start();
    rig.clock.advance(30_000);
    await pass(2500);
    const [run] = await settled("retry", 1);
    assert.equal(run?.status, "ok");
    assert.equal(run?.actions[0]?.attempts, 3);
    assert.equal(run?.actions[0]?.ok, true);
    assert.deepEqual(rig.mqtt.sent, [{ topic: "t", payload: '{"on":true}' }]);
  });

  test("a failing action does not stop the next: the run is partial and the failure is logged", async () => {
    rig.mqtt.failures = 1;
    load(
      task({
        id: "two",
        actions: [
          { type: "mqtt.publish", topic: "first", payload: "1" },
          { type: "mqtt.publish", topic: "second", payload: "2" },
        ],
      }),
    );
    await rig.sched.start();
    rig.clock.advance(30_000);
    const [run] = await settled("two", 1);
    assert.equal(run?.status, "partial");
    assert.deepEqual(
      run?.actions.map((a) => [a.ok, a.attempts, a.error]),
      [
        [false, 1, "broker refused"],
        [true, 1, undefined],
      ],
    );
    assert.deepEqual(
      rig.mqtt.sent.map((m) => m.topic),
      ["second"],
    );
    const warn = rig.logs.lines.find((l) => l.level === 40 && l.taskId === "two");
    assert.match(warn?.msg ?? "", /task two ran: partial \(#0 mqtt\.publish: broker refused\)/);
  });

  test("run now: a manual run, which does not move the task's last slot", async () => {
    load(task({ id: "manual", schedule: { every: 3600 } }));
    await rig.sched.start();
    const run = await rig.sched.runNow("manual");
    assert.equal(run?.trigger, "manual");
    assert.equal(run?.status, "running");
    assert.equal(await rig.sched.runNow("nope"), undefined);
    await settled("manual", 1);
    rig.clock.advance(HOUR);
    const runs = await settled("manual", 2);
    assert.equal(runs[1]?.slot, Date.UTC(2026, 0, 1, 1));
  });
});

describe("retention", () => {
  test("runs beyond runsPerTask, and runs older than runRetentionDays, are purged", async () => {
    await rig.sched.stop();
    rig.sched = rig.make({ runsPerTask: 3, runRetentionDays: 1 });
    load(task({ id: "chatty", schedule: { every: 600 } }));
    await rig.sched.start();
    await pass(55 * MIN, 5000); // five runs: the purge comes once an hour, not per run
    await settled("chatty", 5);
    await pass(10 * MIN, 5000); // the sixth at 01:00, then the hourly purge
    const kept = await settled("chatty", 3);
    assert.deepEqual(
      kept.map((r) => r.slot),
      [4, 5, 6].map((i) => at(10 * i)),
    );
    await rig.sched.stop();
    rig.clock.setWallTime(rig.clock.now() + 2 * 24 * HOUR);
    rig.sched = rig.make({ runsPerTask: 3, runRetentionDays: 1 });
    await rig.sched.start();
    assert.equal(rig.sched.runs("chatty", 10).length, 0);
  });
});
