// The simulated meter read by the agent with the demo's device config: plausible live values,
// an increasing energy counter, a writable breaker, raw frames for listeners, and the swell timeline.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModbusConfig } from "../../../../src/config/schema.js";
import { ManualClock, systemClock } from "../../../../src/core/clock.js";
import { AgentError } from "../../../../src/core/errors.js";
import { silentLogger } from "../../../../src/core/log.js";
import { SimulatedMeter } from "../../../../src/sources/modbus/sim.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { RecordingSink } from "../../../helpers/modbus.js";
import { freePort, waitFor } from "../../../helpers/wait.js";

test("the demo meter config reads live values from the simulator", async () => {
  const port = await freePort();
  const sim = new SimulatedMeter({ port });
  await sim.start();
  const config: ModbusConfig = {
    buses: [{ id: "demo", transport: "tcp", host: "127.0.0.1", port, timeoutMs: 500 }],
    devices: [
      {
        id: "meter-01",
        bus: "demo",
        unitId: 1,
        product: "meter",
        intervalMs: 100,
        points: [
          { name: "voltage", table: "holding", address: 0, type: "float32", order: "ABCD" },
          { name: "current", table: "holding", address: 2, type: "float32" },
          { name: "power_kw", table: "holding", address: 4, type: "float32" },
          { name: "energy_kwh", table: "input", address: 10, type: "uint32", order: "CDAB", scale: 0.01 },
          { name: "breaker_on", table: "coil", address: 0, type: "bool", writable: true },
        ],
      },
    ],
  };
  const sink = new RecordingSink();
  const log = silentLogger();
  const events = testBus(log);
  const raw: string[] = [];
  events.on("rawMessage", (src, topic, payload) => raw.push(`${src} ${topic} ${Object.keys(payload).join(",")}`));
  const source = new ModbusSource({ config, sink, events, clock: systemClock, log, metrics: testMetrics() });
  await source.start();
  try {
    await waitFor(() => sink.of("meter-01").length >= 3, { what: "three meter readings" });
    const rs = sink.of("meter-01");
    const first = rs[0]?.values ?? {};
    const last = rs[rs.length - 1]?.values ?? {};
    assert.ok(Math.abs((first.voltage as number) - 230) < 1, `voltage ${first.voltage}`);
    assert.ok(Math.abs((first.current as number) - 40) < 2, `current ${first.current}`);
    assert.equal(first.breaker_on, true);
    assert.ok((first.energy_kwh as number) >= 12345.67 && (first.energy_kwh as number) < 12346);
    assert.ok((last.energy_kwh as number) >= (first.energy_kwh as number));
    assert.equal(raw[0], "modbus demo/1 coil,holding,input");
    await source.writer.write("meter-01", "breaker_on", false);
    const at = Date.now();
    const open = await waitFor(() => sink.of("meter-01").find((r) => r.ts > at && r.values.breaker_on === false));
    assert.equal(open.values.current, 0);
  } finally {
    await source.stop();
    await sim.stop();
  }
});

test("the swell timeline: pre-warning level, then alarm level, then normal, every 40 s", () => {
  assert.equal(SimulatedMeter.voltageAt(5_000), 230);
  assert.equal(SimulatedMeter.voltageAt(9_000), 247.5);
  assert.equal(SimulatedMeter.voltageAt(15_000), 253);
  assert.equal(SimulatedMeter.voltageAt(21_000), 230);
  assert.equal(SimulatedMeter.voltageAt(49_000), 247.5);
});

test("stop() leaves no timers behind and polls follow the injected clock", async () => {
  const port = await freePort();
  const sim = new SimulatedMeter({ port });
  await sim.start();
  const clock = new ManualClock();
  const sink = new RecordingSink();
  const log = silentLogger();
  const source = new ModbusSource({
    config: {
      buses: [{ id: "demo", transport: "tcp", host: "127.0.0.1", port }],
      devices: [
        {
          id: "m",
          bus: "demo",
          unitId: 1,
          product: "meter",
          intervalMs: 1000,
          points: [{ name: "voltage", table: "holding", address: 0, type: "float32" }],
        },
      ],
    },
    sink,
    events: testBus(log),
    clock,
    log,
    metrics: testMetrics(),
  });
  await source.start();
  try {
    await waitFor(() => sink.of("m").length === 1, { what: "first poll at start" });
    clock.advance(999);
    assert.equal(sink.of("m").length, 1);
    clock.advance(1);
    await waitFor(() => sink.of("m").length === 2, { what: "second poll after 1000 ms of clock time" });
    assert.ok(clock.pendingTimers() > 0);
  } finally {
    await source.stop();
    await sim.stop();
  }
  assert.equal(clock.pendingTimers(), 0);
});

test("stop() during a request that is never answered returns at once and leaves no timers", async () => {
  const { startModbusServer } = await import("../../../helpers/modbus.js");
  const srv = await startModbusServer({ onRequest: () => "silence" });
  const clock = new ManualClock();
  const log = silentLogger();
  const source = new ModbusSource({
    config: {
      buses: [{ id: "b", transport: "tcp", host: "127.0.0.1", port: srv.port, timeoutMs: 60_000 }],
      devices: [
        {
          id: "d",
          bus: "b",
          unitId: 1,
          product: "p",
          points: [{ name: "v", table: "holding", address: 0, type: "uint16" }],
        },
      ],
    },
    sink: new RecordingSink(),
    events: testBus(log),
    clock,
    log,
    metrics: testMetrics(),
  });
  await source.start();
  await waitFor(() => srv.slave.requests === 1, { what: "the request in flight" });
  const t = Date.now();
  await source.stop();
  assert.ok(Date.now() - t < 1000, "stop did not wait for the request's timeout");
  assert.equal(clock.pendingTimers(), 0);
  await srv.close();
});

test("a port another program holds is EA_PORT_IN_USE, naming the address", async () => {
  const first = new SimulatedMeter({ port: 0 });
  await first.start();
  try {
    const second = new SimulatedMeter({ port: first.port });
    await assert.rejects(second.start(), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, "EA_PORT_IN_USE");
      assert.match(
        err.message,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${first.port}: port ${first.port} is already in use`),
      );
      return true;
    });
    await second.stop();
  } finally {
    await first.stop();
  }
});
