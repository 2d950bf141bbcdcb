// What /status shows of the devices: one page of the list, and at most a fixed number of values per
// device with a marker for the rest; `__proto__` from a device stays an ordinary key.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { DeviceState } from "../../../src/core/types.js";
import { devicePage, STATUS_VALUES_PER_DEVICE, summarizeDevice } from "../../../src/pipeline/device-page.js";

test("/status summary: values truncated with a marker, __proto__ stays a key", () => {
  const values: Record<string, number> = {};
  Object.defineProperty(values, "__proto__", { value: 1, enumerable: true, writable: true, configurable: true });
  for (let i = 0; i < 9; i++) values[`k${i}`] = i;
  const d: DeviceState = { id: "d", product: "p", status: "online", lastSeen: 1, values, source: "mqtt" };
  const s = summarizeDevice(d, 5);
  assert.deepEqual(Object.keys(s.values), ["__proto__", "k0", "k1", "k2", "k3"]);
  assert.equal(Object.getPrototypeOf(s.values), Object.prototype);
  assert.equal(s.valuesTruncated, 5);
  assert.equal(summarizeDevice(d, 10), d, "no copy when nothing is cut");
  const page = devicePage([d, d, d], 2, 5);
  assert.deepEqual([page.devices.length, page.devicesTotal, page.devicesOffset, page.devicesLimit], [1, 3, 2, 5]);
});

test("pages past the end are empty; the default per-device cap applies", () => {
  const values: Record<string, number> = {};
  for (let i = 0; i < STATUS_VALUES_PER_DEVICE + 3; i++) values[`v${i}`] = i;
  const d: DeviceState = { id: "d", product: "p", status: "online", lastSeen: 1, values, source: "mqtt" };
  assert.equal(summarizeDevice(d).valuesTruncated, 3);
  const page = devicePage([d], 5, 10);
  assert.deepEqual([page.devices.length, page.devicesTotal, page.devicesOffset], [0, 1, 5]);
});
