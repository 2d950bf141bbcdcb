// The event bus: listeners run in order, unsubscribing removes only its own listener, and a
// throwing listener is logged without reaching the emitter or the listeners after it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { EventBus } from "../../../src/core/events.js";
import { captureLog } from "../../helpers/harness.js";

test("listeners run in order; off() removes only its own listener", () => {
  const bus = new EventBus(captureLog().log);
  const seen: string[] = [];
  assert.equal(bus.hasListeners("rulesChanged"), false);
  const offA = bus.on("rulesChanged", (n) => seen.push(`a${n}`));
  bus.on("rulesChanged", (n) => seen.push(`b${n}`));
  assert.equal(bus.hasListeners("rulesChanged"), true);
  bus.emit("rulesChanged", 1);
  offA();
  offA();
  bus.emit("rulesChanged", 2);
  assert.deepEqual(seen, ["a1", "b1", "b2"]);
  bus.emit("workOrderCreated", { orderId: "x" } as never);
});

test("a throwing listener is logged with the event name and the others still run", () => {
  const out = captureLog<{ level: number; msg: string; event?: string }>();
  const bus = new EventBus(out.log);
  const seen: number[] = [];
  bus.on("rulesChanged", () => {
    throw new Error("listener bug");
  });
  bus.on("rulesChanged", (n) => seen.push(n));
  assert.doesNotThrow(() => bus.emit("rulesChanged", 7));
  assert.deepEqual(seen, [7]);
  assert.equal(out.lines.length, 1);
  assert.equal(out.lines[0]?.level, 50);
  assert.equal(out.lines[0]?.event, "rulesChanged");
  assert.match(out.lines[0]?.msg ?? "", /event listener failed/);
});

test("a listener that unsubscribes itself while the event is sent does not make the next one miss it", () => {
  const bus = new EventBus(captureLog().log);
  const seen: string[] = [];
  const off = bus.on("rulesChanged", () => {
    seen.push("a");
    off();
  });
  bus.on("rulesChanged", () => seen.push("b"));
  bus.emit("rulesChanged", 1);
  bus.emit("rulesChanged", 2);
  assert.deepEqual(seen, ["a", "b", "b"]);
});
