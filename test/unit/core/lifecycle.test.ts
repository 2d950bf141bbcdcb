// The part runner: in order up, in reverse down, a stop that fails or hangs is logged and never
// keeps the other parts from stopping. Time is the manual clock.

import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { LifecycleRunner, lifecycle, type Part, STOP_DEADLINE_MS } from "../../../src/core/lifecycle.js";
import { createLogger } from "../../../src/core/log.js";
import { waitFor } from "../../helpers/wait.js";

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

/** A part whose stop never ends; its stop is recorded in `calls` (the runner arms its deadline just before). */
function hanging(name: string, calls: string[], stopDeadlineMs?: number): Part {
  const stop = () => {
    calls.push(`stop ${name} (hangs)`);
    return new Promise<void>(() => {});
  };
  return { name, part: lifecycle({ stop }), ...(stopDeadlineMs === undefined ? {} : { stopDeadlineMs }) };
}

/** Waits until the runner waits on the hanging part: its stop was called and its deadline is the one timer armed. */
const waitingOn = (name: string, calls: string[], clock: ManualClock) =>
  waitFor(() => calls.at(-1) === `stop ${name} (hangs)` && clock.pendingTimers() === 1, {
    what: `the runner waiting for ${name}`,
  });

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
    await runner.start([part("db"), hanging("hooks", calls, 500), part("http")]);
    let done = false;
    const stopping = runner.stop().then(() => {
      done = true;
    });
    await waitingOn("hooks", calls, clock);
    assert.deepEqual(calls.slice(-2), ["stop http", "stop hooks (hangs)"]);
    clock.advance(499);
    // due timers fire inside advance(): the deadline still armed means the runner still waits for the part
    assert.equal(clock.pendingTimers(), 1, "waits for the part until its deadline");
    assert.equal(done, false);
    assert.deepEqual(calls.slice(-1), ["stop hooks (hangs)"], "db is not stopped before hooks gave up");
    clock.advance(1);
    await stopping;
    assert.deepEqual(calls.slice(-3), ["stop http", "stop hooks (hangs)", "stop db"]);
    const line = logs.lines.find((l) => l.part === "hooks");
    assert.match(String(line?.msg), /hooks did not stop within 500 ms/);
  });

  it("uses the default deadline when a part names none", async () => {
    const { runner, clock, logs } = setup();
    const calls: string[] = [];
    await runner.start([hanging("stuck", calls)]);
    const stopping = runner.stop();
    await waitingOn("stuck", calls, clock);
    clock.advance(STOP_DEADLINE_MS - 1);
    assert.equal(clock.pendingTimers(), 1, "not before the default deadline");
    clock.advance(1);
    await stopping;
    assert.ok(logs.lines.some((l) => l.part === "stuck" && l.deadlineMs === STOP_DEADLINE_MS));
  });
});
