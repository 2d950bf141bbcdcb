// The writer hooks hold exists before the Modbus source: writes reach the source only while it is
// attached, and fail with EA_MODBUS_WRITE and the reason otherwise.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentError } from "../../../../src/core/errors.js";
import type { MetricValue } from "../../../../src/core/types.js";
import { ModbusWrites } from "../../../../src/sources/modbus/writes.js";

const refusedWith = (re: RegExp) => (err: unknown) =>
  err instanceof AgentError && err.code === "EA_MODBUS_WRITE" && re.test(err.message);

test("before the source attaches, after it detaches: refused, naming the point and why", async () => {
  const w = new ModbusWrites({ configured: true });
  await assert.rejects(
    w.write("meter-01", "breaker_on", false),
    refusedWith(/meter-01\.breaker_on: Modbus polling is not running/),
  );
  const got: [string, string, MetricValue][] = [];
  const detach = w.attach({ write: async (d, p, v) => void got.push([d, p, v]) });
  await w.write("meter-01", "breaker_on", false);
  assert.deepEqual(got, [["meter-01", "breaker_on", false]]);
  detach();
  await assert.rejects(w.write("meter-01", "breaker_on", true), refusedWith(/not running/));
  assert.equal(got.length, 1);
});

test("a site without Modbus devices says so", async () => {
  const w = new ModbusWrites({ configured: false });
  await assert.rejects(w.write("m", "p", 1), refusedWith(/no Modbus devices are configured/));
});

test("an old source detaching does not cut off the one attached after it", async () => {
  const w = new ModbusWrites({ configured: true });
  const detachOld = w.attach({ write: async () => assert.fail("old source written") });
  let wrote = 0;
  w.attach({ write: async () => void wrote++ });
  detachOld();
  await w.write("m", "p", 1);
  assert.equal(wrote, 1);
});
