// Modbus RTU over a real serial line: a socat pty pair, the agent on one end and an RTU server on the
// other, mixed with a TCP device in the same source. Covers CRC errors and a pulled USB adapter
// (socat killed: the device node disappears) that comes back without restarting the source.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SerialPort } from "serialport";
import type { ModbusConfig } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { ModbusSlave, serveRtu } from "../../../../src/sources/modbus/slave.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import {
  hasSocat,
  type PtyPair,
  RecordingSink,
  SOCAT_MISSING,
  startModbusServer,
  startPtyPair,
  type TestModbusServer,
} from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

const skip = hasSocat() ? false : SOCAT_MISSING;
let pty: PtyPair;
let port: SerialPort | null = null;
let detach: (() => void) | null = null;
let tcp: TestModbusServer;
let source: ModbusSource;
const sink = new RecordingSink();
const metrics = testMetrics();
const slave = new ModbusSlave({ units: [1, 2, 5], onRequest: (r) => (r.unit === 5 ? "bad-crc" : undefined) });

async function attachServer(): Promise<void> {
  const sp = new SerialPort({ path: pty.b, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
  port = sp;
  detach = serveRtu(slave, sp);
}

async function detachServer(): Promise<void> {
  detach?.();
  detach = null;
  const sp = port;
  port = null;
  if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
}

before(async () => {
  if (skip) return;
  pty = await startPtyPair();
  await attachServer();
  slave.memory.holding[0] = 0x4366; // 230.0 as float32 ABCD high word
  slave.memory.holding[1] = 0x0000;
  slave.memory.coils[3] = 1;
  tcp = await startModbusServer();
  tcp.slave.memory.input[4] = 4242;
  const config: ModbusConfig = {
    buses: [
      {
        id: "rs485",
        transport: "rtu",
        path: pty.a,
        baudRate: 9600,
        timeoutMs: 200,
        reconnectMinMs: 100,
        reconnectMaxMs: 300,
      },
      { id: "lan", transport: "tcp", host: "127.0.0.1", port: tcp.port, timeoutMs: 500 },
    ],
    devices: [
      {
        id: "rtu-1",
        bus: "rs485",
        unitId: 1,
        product: "meter",
        intervalMs: 200,
        points: [
          { name: "voltage", table: "holding", address: 0, type: "float32", writable: true },
          { name: "breaker", table: "coil", address: 3, type: "bool", writable: true },
        ],
      },
      {
        id: "rtu-2",
        bus: "rs485",
        unitId: 2,
        product: "meter",
        intervalMs: 200,
        points: [{ name: "voltage", table: "holding", address: 0, type: "float32" }],
      },
      {
        id: "rtu-crc",
        bus: "rs485",
        unitId: 5,
        product: "meter",
        intervalMs: 200,
        points: [{ name: "v", table: "holding", address: 0, type: "uint16" }],
      },
      {
        id: "tcp-1",
        bus: "lan",
        unitId: 1,
        product: "meter",
        intervalMs: 200,
        points: [{ name: "count", table: "input", address: 4, type: "uint16" }],
      },
    ],
  };
  const log = silentLogger();
  source = new ModbusSource({ config, sink, events: testBus(log), clock: systemClock, log, metrics });
  await source.start();
});

after(async () => {
  if (skip) return;
  await source.stop();
  await detachServer();
  await pty.close();
  await tcp.close();
});

test("RTU and TCP devices in one config both deliver readings", { skip }, async () => {
  const r = await waitFor(() => sink.last("rtu-1"), { what: "rtu-1 reading" });
  assert.deepEqual(r.values, { voltage: 230, breaker: true });
  await waitFor(() => sink.last("rtu-2"), { what: "rtu-2 reading" });
  const t = await waitFor(() => sink.last("tcp-1"), { what: "tcp-1 reading" });
  assert.deepEqual(t.values, { count: 4242 });
});

test("writes go over the serial line", { skip }, async () => {
  await source.writer.write("rtu-1", "voltage", 231.5);
  assert.deepEqual([slave.memory.holding[0], slave.memory.holding[1]], [0x4367, 0x8000]);
  await source.writer.write("rtu-1", "breaker", false);
  assert.equal(slave.memory.coils[3], 0);
});

test("CRC errors make a device offline, not its neighbours", { skip }, async () => {
  const e = await waitFor(() => sink.reachability.find((x) => x.deviceId === "rtu-crc" && !x.reachable), {
    what: "rtu-crc offline",
  });
  assert.match(e.reason ?? "", /CRC/);
  assert.ok(metrics.counter("edge_modbus_requests_total", "").get({ bus: "rs485", result: "crc" }) >= 3);
  // Its neighbours on the same line were reported reachable (their first good poll) and never lost.
  assert.ok(sink.reachability.some((x) => x.deviceId === "rtu-1" && x.reachable));
  assert.equal(
    sink.reachability.find((x) => x.deviceId === "rtu-1" && !x.reachable),
    undefined,
  );
});

test("a pulled serial adapter: offline, then online when it is back, TCP unaffected", { skip }, async () => {
  await detachServer();
  await pty.kill();
  const pulled = Date.now();
  const off = await waitFor(
    () => sink.reachability.find((x) => x.deviceId === "rtu-1" && !x.reachable && x.at >= pulled),
    { what: "rtu-1 offline after pull", timeoutMs: 8000 },
  );
  assert.match(off.reason ?? "", /consecutive failed polls/);
  // The serial line is still gone: the TCP device must keep its poll going meanwhile. (The RTU
  // device can go offline within a few hundred ms when the port errors at once, so wait for the
  // TCP readings rather than expecting them to be there already.)
  await waitFor(() => sink.of("tcp-1").filter((r) => r.ts >= pulled).length >= 2, {
    what: "TCP device polling while the serial line is gone",
    timeoutMs: 5000,
  });
  await pty.restart();
  await attachServer();
  const back = Date.now();
  await waitFor(() => sink.reachability.find((x) => x.deviceId === "rtu-1" && x.reachable && x.at >= back), {
    what: "rtu-1 online again",
    timeoutMs: 8000,
  });
  const n = sink.of("rtu-1").length;
  await waitFor(() => sink.of("rtu-1").length > n, { what: "readings after replug" });
});
