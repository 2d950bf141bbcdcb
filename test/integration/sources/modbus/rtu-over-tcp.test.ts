// RTU frames through a TCP serial server (transport "rtu-over-tcp"): the server speaks RTU with CRC
// on a plain TCP socket, like a Moxa/USR device server in transparent mode.

import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { ModbusSlave, serveRtu } from "../../../../src/sources/modbus/slave.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { RecordingSink } from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

test("rtu-over-tcp reads two units through one gateway connection", async () => {
  const slave = new ModbusSlave({ units: [3, 4] });
  slave.memory.input[0] = 0xfffe; // int16 -2
  slave.memory.input[1] = 0x0102;
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    serveRtu(slave, s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  const sink = new RecordingSink();
  const log = silentLogger();
  const source = new ModbusSource({
    config: {
      buses: [{ id: "gw", transport: "rtu-over-tcp", host: "127.0.0.1", port, baudRate: 19200, timeoutMs: 500 }],
      devices: [3, 4].map((unitId) => ({
        id: `u${unitId}`,
        bus: "gw",
        unitId,
        product: "meter",
        intervalMs: 60_000,
        points: [
          { name: "t", table: "input" as const, address: 0, type: "int16" as const },
          { name: "hi", table: "input" as const, address: 1, type: "bool" as const, bit: 8 },
        ],
      })),
    },
    sink,
    events: testBus(log),
    clock: systemClock,
    log,
    metrics: testMetrics(),
  });
  await source.start();
  try {
    const a = await waitFor(() => sink.last("u3"), { what: "u3" });
    const b = await waitFor(() => sink.last("u4"), { what: "u4" });
    assert.deepEqual(a.values, { t: -2, hi: true });
    assert.deepEqual(b.values, { t: -2, hi: true });
    assert.equal(slave.requests, 2);
    assert.equal(sockets.size, 1);
  } finally {
    await source.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
