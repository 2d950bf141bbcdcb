// Every type and word order over real Modbus TCP: the server holds values laid out independently of
// the decoder (Buffer big-endian bytes permuted per order); the agent's readings must match exactly.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ModbusConfig, ModbusPointConfig } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { layout, RecordingSink, startModbusServer, type TestModbusServer } from "../../../helpers/modbus.js";
import { waitFor } from "../../../helpers/wait.js";

const ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"] as const;
type Order = (typeof ORDERS)[number];

function bytes(n: number, write: (b: Buffer) => void): number[] {
  const b = Buffer.alloc(n);
  write(b);
  return [...b];
}

interface Case {
  type: ModbusPointConfig["type"];
  be: number[];
  expect: number | string;
  scale?: number;
  offset?: number;
}

const CASES: Case[] = [
  { type: "int32", be: bytes(4, (b) => b.writeInt32BE(-123456789)), expect: -123456789 },
  { type: "uint32", be: bytes(4, (b) => b.writeUInt32BE(3_000_000_001)), expect: 3_000_000_001 },
  { type: "float32", be: bytes(4, (b) => b.writeFloatBE(230.5)), expect: 230.5 },
  { type: "float64", be: bytes(8, (b) => b.writeDoubleBE(-1234.5678)), expect: -1234.5678 },
  { type: "int64", be: bytes(8, (b) => b.writeBigInt64BE(-42n)), expect: -42 },
  { type: "int64", be: bytes(8, (b) => b.writeBigInt64BE(-9007199254740993n)), expect: "-9007199254740993" },
  { type: "uint64", be: bytes(8, (b) => b.writeBigUInt64BE(18446744073709551615n)), expect: "18446744073709551615" },
  { type: "uint64", be: bytes(8, (b) => b.writeBigUInt64BE(9007199254740991n)), expect: 9007199254740991 },
  { type: "uint32", be: bytes(4, (b) => b.writeUInt32BE(1234567)), expect: 12345.67, scale: 0.01 },
  { type: "int32", be: bytes(4, (b) => b.writeInt32BE(-500)), expect: -40, scale: 0.1, offset: 10 },
];

let server: TestModbusServer;
let source: ModbusSource;
const sink = new RecordingSink();
const expected: Record<string, number | string | boolean> = {};

before(async () => {
  server = await startModbusServer();
  const m = server.slave.memory;
  const points: ModbusPointConfig[] = [];
  let addr = 0;
  for (const order of ORDERS) {
    CASES.forEach((c, i) => {
      const regs = layout(c.be, order as Order);
      regs.forEach((r, k) => {
        m.holding[addr + k] = r;
      });
      const name = `${c.type}_${i}_${order}`;
      points.push({
        name,
        table: "holding",
        address: addr,
        type: c.type,
        order,
        ...(c.scale !== undefined ? { scale: c.scale } : {}),
        ...(c.offset !== undefined ? { offset: c.offset } : {}),
        writable: true,
      });
      expected[name] = c.expect;
      addr += regs.length + 1;
    });
  }
  // 16-bit, bits and strings (input registers, coils, discrete inputs).
  m.input[0] = 0xcfc7; // -12345 as int16
  m.input[1] = 54321;
  m.input[2] = 0b0000_0000_0000_1000; // bit 3 set
  m.input[3] = 1234; // uint16 × 0.1 − 20
  const str = Buffer.from("EDGE-01\0", "latin1");
  for (let k = 0; k < 4; k++) m.input[10 + k] = str.readUInt16BE(k * 2);
  for (let k = 0; k < 4; k++) m.input[20 + k] = str.readUInt16LE(k * 2); // low byte first
  m.holding[500] = 0x0101;
  m.coils[5] = 1;
  m.coils[6] = 0;
  m.discrete[7] = 1;
  points.push(
    { name: "i16", table: "input", address: 0, type: "int16" },
    { name: "u16", table: "input", address: 1, type: "uint16" },
    { name: "bit3", table: "input", address: 2, type: "bool", bit: 3 },
    { name: "bit2", table: "input", address: 2, type: "bool", bit: 2 },
    { name: "u16s", table: "input", address: 3, type: "uint16", scale: 0.1, offset: -20 },
    { name: "serial", table: "input", address: 10, type: "string", length: 4 },
    { name: "serial_badc", table: "input", address: 20, type: "string", length: 4, order: "BADC" },
    { name: "hbit5", table: "holding", address: 500, type: "bool", bit: 5, writable: true },
    { name: "coil5", table: "coil", address: 5, type: "bool" },
    { name: "coil6", table: "coil", address: 6, type: "bool", writable: true },
    { name: "disc7", table: "discrete", address: 7, type: "bool" },
  );
  Object.assign(expected, {
    i16: -12345,
    u16: 54321,
    bit3: true,
    bit2: false,
    u16s: 103.4,
    serial: "EDGE-01",
    serial_badc: "EDGE-01",
    hbit5: false,
    coil5: true,
    coil6: false,
    disc7: true,
  });
  const config: ModbusConfig = {
    buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: server.port, timeoutMs: 1000 }],
    devices: [{ id: "dev-1", bus: "plant", unitId: 1, product: "meter", intervalMs: 60_000, points }],
  };
  const log = silentLogger();
  source = new ModbusSource({
    config,
    sink,
    events: testBus(log),
    clock: systemClock,
    log,
    metrics: testMetrics(),
  });
  await source.start();
});

after(async () => {
  await source.stop();
  await server.close();
});

test("every type and word order decodes exactly over Modbus TCP", async () => {
  const r = await waitFor(() => sink.last("dev-1"), { what: "a reading from dev-1" });
  assert.equal(r.source, "modbus");
  assert.equal(r.product, "meter");
  assert.deepEqual(r.values, expected);
});

test("writes encode by the point's type and order and read back the same value", async () => {
  await source.writer.write("dev-1", "float64_3_CDAB", 98.25);
  await source.writer.write("dev-1", "int64_5_DCBA", "-9007199254740993");
  await source.writer.write("dev-1", "coil6", true);
  const m = server.slave.memory;
  const f64 = CASES.findIndex((c) => c.type === "float64");
  assert.equal(f64, 3);
  // The registers now hold the new value in CDAB layout, built independently of the encoder.
  const at = (name: string) => {
    let addr = 0;
    for (const order of ORDERS)
      for (let i = 0; i < CASES.length; i++) {
        if (`${(CASES[i] as Case).type}_${i}_${order}` === name) return addr;
        addr += (CASES[i] as Case).be.length / 2 + 1;
      }
    throw new Error(name);
  };
  const a = at("float64_3_CDAB");
  assert.deepEqual(
    [...m.holding.subarray(a, a + 4)],
    layout(
      bytes(8, (b) => b.writeDoubleBE(98.25)),
      "CDAB",
    ),
  );
  const b = at("int64_5_DCBA");
  assert.deepEqual(
    [...m.holding.subarray(b, b + 4)],
    layout(
      bytes(8, (x) => x.writeBigInt64BE(-9007199254740993n)),
      "DCBA",
    ),
  );
  assert.equal(m.coils[6], 1);
  await source.writer.write("dev-1", "hbit5", true); // read-modify-write keeps the other bits
  assert.equal(m.holding[500], 0x0121);
  await assert.rejects(source.writer.write("dev-1", "disc7", true), /read-only/);
  await assert.rejects(source.writer.write("dev-1", "nope", 1), /no such point/);
  await assert.rejects(
    source.writer.write("dev-1", "coil5", false),
    /"coil5" of Modbus device "dev-1" is not writable/,
  );
  assert.equal(m.coils[5], 1);
  await assert.rejects(source.writer.write("dev-1", "int32_0_ABCD", 2 ** 40), /out of range/);
});
