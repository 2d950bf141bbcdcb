// Modbus readings through the real pipeline: they arrive as ordinary readings (`reading` events),
// and a device that stops answering goes offline and comes back online as deviceStatusChanged events.

import assert from "node:assert/strict";
import { test } from "node:test";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { DeviceRegistry } from "../../../../src/pipeline/device-registry.js";
import { Pipeline } from "../../../../src/pipeline/ingest.js";
import { RuleSet } from "../../../../src/rules/rule-set.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { startModbusServer } from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

test("status events: online, offline after 3 failed polls, online again; readings look like any other", async () => {
  let answering = true;
  const srv = await startModbusServer({ onRequest: () => (answering ? undefined : "silence") });
  srv.slave.memory.holding[0] = 1234;
  const log = silentLogger();
  const events = testBus(log);
  const metrics = testMetrics();
  const devices = new DeviceRegistry({ meta: { "m-1": { name: "Incomer" } }, events });
  devices.declare({ id: "m-1", product: "meter" }, "modbus");
  const pipeline = new Pipeline({ devices, rules: new RuleSet(), events, log, metrics });
  const statuses: string[] = [];
  const failedAt: number[] = [];
  events.on("deviceStatusChanged", (d, from, to) => {
    if (d.id === "m-1") statuses.push(`${from}->${to}`);
  });
  const readings: { values: Record<string, unknown>; source: string; name?: string | undefined }[] = [];
  events.on("reading", (r, d) => readings.push({ values: { ...r.values }, source: r.source, name: d.name }));
  const source = new ModbusSource({
    config: {
      buses: [{ id: "b", transport: "tcp", host: "127.0.0.1", port: srv.port, timeoutMs: 100 }],
      devices: [
        {
          id: "m-1",
          bus: "b",
          unitId: 1,
          product: "meter",
          intervalMs: 150,
          points: [{ name: "p", table: "holding", address: 0, type: "uint16", scale: 0.1 }],
        },
      ],
    },
    sink: pipeline,
    events,
    clock: systemClock,
    log,
    metrics,
  });
  await source.start();
  try {
    await waitFor(() => readings.length > 0, { what: "a reading event" });
    assert.deepEqual(readings[0], { values: { p: 123.4 }, source: "modbus", name: "Incomer" });
    assert.equal(devices.get("m-1")?.status, "online");
    answering = false;
    const polls = metrics.counter("edge_modbus_polls_total", "");
    await waitFor(() => devices.get("m-1")?.status === "offline", { what: "offline", timeoutMs: 5000 });
    failedAt.push(polls.get({ device: "m-1", result: "failed" }));
    assert.ok((failedAt[0] ?? 0) >= 3, "offline only after three failed polls");
    answering = true;
    await waitFor(() => devices.get("m-1")?.status === "online", { what: "online again", timeoutMs: 5000 });
    assert.deepEqual(statuses.slice(-2), ["online->offline", "offline->online"]);
    assert.equal(metrics.counter("edge_readings_total", "").get({ source: "modbus" }) >= 2, true);
  } finally {
    await source.stop();
    await srv.close();
  }
});
