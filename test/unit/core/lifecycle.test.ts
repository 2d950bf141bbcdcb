// The part runner: in order up, in reverse down, a stop that fails or hangs is logged and never
// keeps the other parts from stopping. Time is the manual clock.

import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { LifecycleRunner, lifecycle, type Part, STOP_DEADLINE_MS } from "../../../src/core/lifecycle.js";
import { createLogger } from "../../../src/core/log.js";

/** The log lines, parsed. */
class LogSink extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString("utf8").split("\n")) if (l) this.lines.push(JSON.parse(l));
    cb();
  }
}

function recorder() {
  const calls: string[] = [];
  const part = (name: string, extra: Partial<Part> = {}): Part => ({
    name,
    part: lifecycle({ start: () => calls.push(`start ${name}`), stop: () => calls.push(`stop ${name}`) }),
    ...extra,
  });
  return { calls, part };
}

function setup() {
  const clock = new ManualClock();
  const logs = new LogSink();
  const runner = new LifecycleRunner({ clock, log: createLogger({ level: "info", destination: logs }) });
  return { clock, logs, runner };
}

/** Lets pending promise callbacks run (the runner awaits between parts). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe("LifecycleRunner", () => {
  it("starts in order and stops in reverse", async () => {
    const { runner } = setup();
    const { calls, part } = recorder();
    await runner.start([part("db"), part("alarms"), part("http")]);
    await runner.stop();
    assert.deepEqual(calls, ["start db", "start alarms", "start http", "stop http", "stop alarms", "stop db"]);
    await runner.stop();
    assert.equal(calls.length, 6, "a second stop stops nothing again");
  });

  it("stops only what started when a start fails", async () => {
    const { runner } = setup();
    const { calls, part } = recorder();
    const broken: Part = { name: "mqtt", part: lifecycle({ start: () => Promise.reject(new Error("refused")) }) };
    await assert.rejects(runner.start([part("db"), broken, part("http")]), /refused/);
    await runner.stop();
    assert.deepEqual(calls, ["start db", "stop db"]);
  });

  it("logs a failing stop and goes on with the others", async () => {
    const { runner, logs } = setup();
    const { calls, part } = recorder();
    const failing: Part = { name: "upstream", part: lifecycle({ stop: () => Promise.reject(new Error("socket")) }) };
    await runner.start([part("db"), failing, part("http")]);
    await runner.stop();
    assert.deepEqual(calls, ["start db", "start http", "stop http", "stop db"]);
    const line = logs.lines.find((l) => l.part === "upstream");
    assert.ok(line, "the failure is logged with its part");
    assert.match(String(line.msg), /error while stopping upstream: socket/);
  });

  it("gives up on a stop past its deadline, logs it, and stops the rest", async () => {
    const { runner, logs, clock } = setup();
    const { calls, part } = recorder();
    const stuck: Part = { name: "hooks", part: lifecycle({ stop: () => new Promise(() => {}) }), stopDeadlineMs: 500 };
    await runner.start([part("db"), stuck, part("http")]);
    let done = false;
    const stopping = runner.stop().then(() => {
      done = true;
    });
    await settle();
    assert.deepEqual(calls.slice(-1), ["stop http"]);
    clock.advance(499);
    await settle();
    assert.equal(done, false, "waits for the part until its deadline");
    clock.advance(1);
    await stopping;
    assert.deepEqual(calls.slice(-2), ["stop http", "stop db"]);
    const line = logs.lines.find((l) => l.part === "hooks");
    assert.match(String(line?.msg), /hooks did not stop within 500 ms/);
  });

  it("uses the default deadline when a part names none", async () => {
    const { runner, clock, logs } = setup();
    await runner.start([{ name: "stuck", part: lifecycle({ stop: () => new Promise(() => {}) }) }]);
    const stopping = runner.stop();
    await settle();
    clock.advance(STOP_DEADLINE_MS);
    await stopping;
    assert.ok(logs.lines.some((l) => l.part === "stuck" && l.deadlineMs === STOP_DEADLINE_MS));
  });
});
