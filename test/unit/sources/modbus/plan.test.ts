import assert from "node:assert/strict";
import { test } from "node:test";
import type { Config, ModbusDeviceConfig } from "../../../../src/config/schema.js";
import { formatPlan, planDevice } from "../../../../src/sources/modbus/plan.js";
import { SIXTY_POINT_MINIMAL_REQUESTS, sixtyPointDevice } from "../../../helpers/modbus-plan-fixture.js";

test("60 points in 3 tables with gaps plan into the minimal 5 requests", () => {
  const plan = planDevice(sixtyPointDevice("b"));
  assert.equal(plan.length, SIXTY_POINT_MINIMAL_REQUESTS);
  assert.deepEqual(
    plan.map((r) => [r.fc, r.address, r.count, r.points.length]),
    [
      [1, 0, 46, 10],
      [3, 0, 64, 30],
      [4, 0, 38, 10],
      [4, 1000, 116, 9],
      [4, 1126, 4, 1],
    ],
  );
  for (const r of plan) assert.ok(r.count <= (r.fc <= 2 ? 2000 : 125));
});

test("gap larger than maxGap splits; maxGap is configurable per device", () => {
  const dev: ModbusDeviceConfig = {
    id: "d",
    bus: "b",
    unitId: 1,
    product: "p",
    points: [
      { name: "a", table: "holding", address: 0, type: "uint16" },
      { name: "b", table: "holding", address: 12, type: "uint16" },
    ],
  };
  assert.equal(planDevice(dev).length, 2); // gap of 11 registers > default 10
  assert.equal(planDevice({ ...dev, maxGap: 11 }).length, 1);
  assert.equal(planDevice(dev, 0).length, 2);
});

test("bits merge up to 2000 per request, overlapping points share a read", () => {
  const points = [
    { name: "c0", table: "coil" as const, address: 0, type: "bool" as const },
    { name: "c1999", table: "coil" as const, address: 1999, type: "bool" as const },
    { name: "c2000", table: "coil" as const, address: 2000, type: "bool" as const },
    { name: "v", table: "holding" as const, address: 10, type: "float32" as const },
    { name: "vlow", table: "holding" as const, address: 11, type: "uint16" as const },
  ];
  const withBridges = [...points];
  for (let a = 5; a < 2000; a += 5) withBridges.push({ name: `c${a}`, table: "coil", address: a, type: "bool" });
  const plan = planDevice({ id: "d", bus: "b", unitId: 1, product: "p", points: withBridges });
  assert.deepEqual(
    plan.map((r) => [r.fc, r.address, r.count]),
    [
      [1, 0, 2000],
      [1, 2000, 1],
      [3, 10, 2],
    ],
  );
});

test("formatPlan lists each device's requests and the total", () => {
  const config = {
    modbus: { buses: [{ id: "b", transport: "tcp" }], devices: [sixtyPointDevice("b")] },
  } as unknown as Config;
  const text = formatPlan(config);
  assert.match(text, /dev-60 \(bus b, unit 1, every 60000 ms, max gap 10\): 5 requests for 60 points/);
  assert.match(text, /FC4 input\s+1000\.\.1115/);
  assert.match(text, /total: 5 requests per round for 60 points \(one per point would be 60\)/);
  assert.match(formatPlan({} as Config), /no Modbus devices/);
});
