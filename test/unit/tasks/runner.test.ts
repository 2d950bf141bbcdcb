// One run's actions on a manual clock: order, per-try deadlines, the wait between tries, the run's
// status from its actions' outcomes, and what a missing part or an unusable hook answer becomes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import type { HookInvoker, MqttPublisher } from "../../../src/core/ports.js";
import type { ActionPorts } from "../../../src/tasks/actions.js";
import { runActions, runStatus, StopSignal } from "../../../src/tasks/runner.js";
import type { TaskAction, TaskActionResult, TaskDefinition } from "../../../src/tasks/types.js";

function def(actions: TaskAction[], timeoutMs = 1000): TaskDefinition {
  return { id: "t1", name: "night", isEnable: true, schedule: { every: 60 }, misfire: "skip", timeoutMs, actions };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("runActions", () => {
  test("actions run in order, each after the one before settled", async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    const mqtt: MqttPublisher = {
      publish: async (topic) => {
        order.push(`start ${topic}`);
        await Promise.resolve();
        order.push(`end ${topic}`);
      },
    };
    const results = await runActions(
      { clock, ports: { mqtt } },
      def([
        { type: "mqtt.publish", topic: "a", payload: "1" },
        { type: "mqtt.publish", topic: "b", payload: "2" },
      ]),
      0,
      "schedule",
      new StopSignal(),
    );
    assert.deepEqual(order, ["start a", "end a", "start b", "end b"]);
    assert.deepEqual(
      results.map((r) => [r.index, r.ok]),
      [
        [0, true],
        [1, true],
      ],
    );
  });

  test("the action's timeoutMs overrides the task's; a retry waits delayMs on the clock", async () => {
    const clock = new ManualClock();
    const calls: number[] = [];
    const hooks: HookInvoker = {
      invoke: () => {
        calls.push(clock.monotonic());
        return new Promise(() => undefined);
      },
    };
    const done = runActions(
      { clock, ports: { hooks } },
      def([{ type: "hook", hook: "h", method: "m", timeoutMs: 200, retry: { attempts: 2, delayMs: 300 } }], 5000),
      0,
      "schedule",
      new StopSignal(),
    );
    await tick();
    clock.advance(199);
    await tick();
    assert.equal(calls.length, 1);
    clock.advance(1); // first try times out at 200
    await tick();
    clock.advance(299);
    await tick();
    assert.equal(calls.length, 1, "no second try before the delay");
    clock.advance(1);
    await tick();
    assert.deepEqual(calls, [0, 500]);
    clock.advance(200);
    const [r] = await done;
    assert.equal(r?.ok, false);
    assert.equal(r?.attempts, 2);
    assert.equal(r?.error, "timed out after 200 ms");
    assert.equal(r?.durationMs, 700);
  });

  test("a missing part fails its action with the reason; stopping abandons what is in flight", async () => {
    const clock = new ManualClock();
    const stop = new StopSignal();
    const hooks: HookInvoker = { invoke: () => new Promise(() => undefined) };
    const ports: ActionPorts = { hooks };
    const done = runActions(
      { clock, ports },
      def([
        { type: "modbus.write", device: "m1", point: "relay", value: true },
        { type: "hook", hook: "h", method: "m" },
        { type: "mqtt.publish", topic: "x", payload: 1 },
      ]),
      0,
      "manual",
      stop,
    );
    await tick();
    stop.stop();
    const results = await done;
    assert.match(results[0]?.error ?? "", /Modbus is not available: no Modbus devices are configured/);
    assert.equal(results[1]?.error, "abandoned: the agent stopped");
    assert.equal(results[2]?.error, "not run: the agent stopped");
    assert.equal(results[2]?.attempts, 0);
  });

  test("a large answer is kept as a bounded preview", async () => {
    const clock = new ManualClock();
    const hooks: HookInvoker = { invoke: async () => ({ text: "x".repeat(10_000) }) };
    const [r] = await runActions(
      { clock, ports: { hooks } },
      def([{ type: "hook", hook: "h", method: "m" }]),
      0,
      "schedule",
      new StopSignal(),
    );
    const kept = r?.result as { truncated: boolean; preview: string };
    assert.equal(kept.truncated, true);
    assert.equal(kept.preview.length, 4096);
  });
});

describe("runStatus", () => {
  const r = (ok: boolean): TaskActionResult => ({
    index: 0,
    type: "hook",
    ok,
    attempts: 1,
    startedAt: 0,
    durationMs: 0,
  });
  test("ok when all succeeded, failed when none did, partial otherwise", () => {
    assert.equal(runStatus([r(true), r(true)]), "ok");
    assert.equal(runStatus([r(false), r(false)]), "failed");
    assert.equal(runStatus([r(true), r(false)]), "partial");
    assert.equal(runStatus([]), "ok");
  });
});
