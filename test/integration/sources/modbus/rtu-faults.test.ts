// One bad RTU answer must cost one failed request, never the bus: a real pty pair (and a TCP
// server speaking RTU framing) with a slave that damages chosen answers — last byte lost, line
// garbage, an answer from another unit id — and the lag case (a truncated FC3 answer followed by
// shorter reads with the same function code). Every register holds a distinct value, so an answer
// that belongs to the previous request (one behind) is caught.

import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { SerialPort } from "serialport";
import { resolveModbusBus } from "../../../../src/config/defaults.js";
import type { ModbusBusConfig } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { ModbusBus } from "../../../../src/sources/modbus/bus.js";
import { ModbusSlave, type SlaveFault, serveRtu } from "../../../../src/sources/modbus/slave.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { hasSocat, RecordingSink, SOCAT_MISSING, startPtyPair } from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

const UNIT = 1;

/** A slave whose register n holds 1000 + n, damaging the next answers as `inject` asks. */
function faultySlave(): { slave: ModbusSlave; inject(fault: SlaveFault, times?: number): void } {
  const pending: SlaveFault[] = [];
  const slave = new ModbusSlave({ units: [UNIT], onRequest: () => pending.shift() });
  for (let i = 0; i < 200; i++) {
    slave.memory.holding[i] = 1000 + i;
    slave.memory.input[i] = 5000 + i;
  }
  return {
    slave,
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) pending.push(fault);
    },
  };
}

interface Line {
  bus(extra?: Partial<ModbusBusConfig>): ModbusBusConfig;
  /** Connections the far end accepted (TCP only; a serial line cannot see a reopen). */
  accepted(): number;
  close(): Promise<void>;
}

async function serialLine(slave: ModbusSlave): Promise<Line> {
  const pty = await startPtyPair();
  const sp = new SerialPort({ path: pty.b, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
  const detach = serveRtu(slave, sp);
  return {
    bus: (extra) => ({ id: "rs485", transport: "rtu", path: pty.a, baudRate: 9600, timeoutMs: 500, ...extra }),
    accepted: () => 0,
    async close() {
      detach();
      if (sp.isOpen) await new Promise<void>((r) => sp.close(() => r()));
      await pty.close();
    },
  };
}

async function rtuOverTcpLine(slave: ModbusSlave): Promise<Line> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const srv = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
    serveRtu(slave, s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  return {
    bus: (extra) => ({
      id: "gw",
      transport: "rtu-over-tcp",
      host: "127.0.0.1",
      port,
      baudRate: 19200,
      timeoutMs: 500,
      ...extra,
    }),
    accepted: () => accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

async function openBus(config: ModbusBusConfig, metrics = testMetrics()): Promise<ModbusBus> {
  const bus = new ModbusBus({ config: resolveModbusBus(config), clock: systemClock, log: silentLogger(), metrics });
  bus.start();
  await waitFor(() => bus.connected, { what: `bus ${config.id} open` });
  return bus;
}

/** Reads holding registers one at a time: each must answer its own value (one behind shows as n-1). */
async function expectClean(bus: ModbusBus, from: number, n: number): Promise<void> {
  const got: (number[] | boolean[] | string)[] = [];
  const want: number[][] = [];
  for (let a = from; a < from + n; a++) {
    want.push([1000 + a]);
    got.push(
      await bus.read(UNIT, 3, a, 1).then(
        (v) => v,
        (e: Error) => e.message,
      ),
    );
  }
  assert.deepEqual(got, want, `holding ${from}..${from + n - 1} after the fault`);
}

const lines: [string, (s: ModbusSlave) => Promise<Line>, string | false][] = [
  ["rtu (pty pair)", serialLine, hasSocat() ? false : SOCAT_MISSING],
  ["rtu-over-tcp", rtuOverTcpLine, false],
];

for (const [name, makeLine, skip] of lines) {
  describe(`${name}: a damaged answer costs one request`, { skip }, () => {
    const { slave, inject } = faultySlave();
    let line: Line;
    let bus: ModbusBus;
    const ready = (async () => {
      if (skip) return;
      line = await makeLine(slave);
      bus = await openBus(line.bus());
    })();
    after(async () => {
      if (skip) return;
      await bus.stop();
      await line.close();
    });

    test("an answer that lost its last byte, then reads of the same length", async () => {
      await ready;
      inject("truncate");
      await assert.rejects(bus.read(UNIT, 3, 29, 1), /did not answer|no answer|incomplete/);
      await expectClean(bus, 30, 6);
    });

    test("the lag case: a truncated FC3 answer, then shorter FC3 reads", async () => {
      await ready;
      inject("truncate");
      await assert.rejects(bus.read(UNIT, 3, 20, 2));
      await expectClean(bus, 30, 6);
      inject("truncate");
      await assert.rejects(bus.read(UNIT, 3, 10, 3));
      await expectClean(bus, 40, 6);
    });

    test("garbage on the line instead of an answer", async () => {
      await ready;
      inject("garbage");
      await assert.rejects(bus.read(UNIT, 3, 50, 1), /garbled answer/);
      await expectClean(bus, 51, 4);
    });

    test("answers from the wrong unit id", async () => {
      await ready;
      inject("wrong-unit", 3);
      for (let i = 0; i < 3; i++) await assert.rejects(bus.read(UNIT, 3, 60 + i, 1), /unit 2 answered/);
      await expectClean(bus, 63, 4);
      // A wrong-unit answer of another length, then reads of a third length and another function.
      inject("wrong-unit");
      await assert.rejects(bus.read(UNIT, 3, 70, 4));
      assert.deepEqual(await bus.read(UNIT, 4, 7, 2), [5007, 5008]);
      await expectClean(bus, 71, 3);
    });

    test("a bad CRC, then writes and reads", async () => {
      await ready;
      inject("bad-crc");
      await assert.rejects(bus.read(UNIT, 3, 80, 1), /CRC/);
      await bus.writeRegisters(UNIT, 150, [4242]);
      assert.equal(slave.memory.holding[150], 4242);
      slave.memory.holding[150] = 1150;
      await expectClean(bus, 81, 3);
    });
  });

  describe(`${name}: the bus reopens after consecutive failures`, { skip }, () => {
    test("N failed requests in a row close and reopen the port, then reads work", async () => {
      const { slave, inject } = faultySlave();
      const line = await makeLine(slave);
      const metrics = testMetrics();
      const config = line.bus({ reopenAfterFailures: 3, reconnectMinMs: 50 });
      const bus = await openBus(config, metrics);
      const reconnects = () => metrics.counter("edge_modbus_reconnects_total", "").get({ bus: config.id });
      try {
        assert.equal(reconnects(), 1);
        inject("garbage", 2);
        inject("truncate");
        for (let i = 0; i < 3; i++) await assert.rejects(bus.read(UNIT, 3, 90 + i, 1));
        await waitFor(() => reconnects() === 2 && bus.connected, { what: "bus reopened", timeoutMs: 3000 });
        if (config.transport === "rtu-over-tcp") assert.equal(line.accepted(), 2);
        await expectClean(bus, 93, 3);
        // Two failures, then a success: the count starts again, no reopen.
        inject("garbage", 2);
        for (let i = 0; i < 2; i++) await assert.rejects(bus.read(UNIT, 3, 96, 1));
        await expectClean(bus, 96, 1);
        inject("garbage", 2);
        for (let i = 0; i < 2; i++) await assert.rejects(bus.read(UNIT, 3, 97, 1));
        await expectClean(bus, 97, 1);
        assert.equal(reconnects(), 2);
      } finally {
        await bus.stop();
        await line.close();
      }
    });
  });

  describe(`${name}: a polled device`, { skip }, () => {
    test("goes offline on damaged answers and online at the first good one, with the right values", async () => {
      const { slave, inject } = faultySlave();
      const line = await makeLine(slave);
      const sink = new RecordingSink();
      const metrics = testMetrics();
      const log = silentLogger();
      const config = line.bus({ reopenAfterFailures: 100 });
      const source = new ModbusSource({
        config: {
          buses: [config],
          devices: [
            {
              id: "meter",
              bus: config.id,
              unitId: UNIT,
              product: "meter",
              intervalMs: 100,
              offlineAfter: 1,
              points: [
                { name: "wide", table: "holding", address: 20, type: "uint32" },
                { name: "narrow", table: "holding", address: 40, type: "uint16" },
                { name: "input", table: "input", address: 7, type: "uint16" },
              ],
            },
          ],
        },
        sink,
        events: testBus(log),
        clock: systemClock,
        log,
        metrics,
      });
      const expected = { wide: 1020 * 65536 + 1021, narrow: 1040, input: 5007 };
      const polls = (result: string) => metrics.counter("edge_modbus_polls_total", "").get({ device: "meter", result });
      await source.start();
      try {
        await waitFor(() => sink.last("meter"), { what: "first reading" });
        // Each damaged answer fails its poll (the device goes offline: offlineAfter is 1) and the
        // very next poll must succeed with the values of the registers asked for.
        for (const fault of ["truncate", "garbage", "wrong-unit", "bad-crc", "truncate"] as const) {
          const failedBefore = polls("failed");
          const events = sink.reachability.length;
          inject(fault);
          const off = await waitFor(() => sink.reachability.slice(events).find((r) => !r.reachable), {
            what: `offline after ${fault}`,
            timeoutMs: 5000,
          });
          assert.match(off.reason ?? "", /1 consecutive failed polls/);
          await waitFor(() => sink.reachability.slice(events).find((r) => r.reachable), {
            what: `online after ${fault}`,
            timeoutMs: 5000,
          });
          assert.equal(polls("failed") - failedBefore, 1, `only the poll that got the ${fault} answer failed`);
        }
        const n = sink.readings.length;
        await waitFor(() => sink.readings.length >= n + 3, { what: "readings after recovery" });
        for (const r of sink.readings) assert.deepEqual(r.values, expected);
      } finally {
        await source.stop();
        await line.close();
      }
    });
  });
}
