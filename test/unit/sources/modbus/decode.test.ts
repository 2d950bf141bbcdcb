import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyScale,
  decodeRegisters,
  encodeBool,
  encodeRegisters,
  type PointCodec,
  withBit,
} from "../../../../src/sources/modbus/decode.js";

const ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"] as const;

test("32-bit orders place bytes A..D as documented", () => {
  // 0x11223344: A=11 B=22 C=33 D=44
  const regs = { ABCD: [0x1122, 0x3344], CDAB: [0x3344, 0x1122], BADC: [0x2211, 0x4433], DCBA: [0x4433, 0x2211] };
  for (const o of ORDERS) {
    assert.equal(decodeRegisters({ table: "holding", type: "uint32", order: o }, regs[o], 0), 0x11223344, o);
    assert.deepEqual(encodeRegisters("p", { table: "holding", type: "uint32", order: o }, 0x11223344), regs[o], o);
  }
});

test("64-bit integers: number up to 2^53-1, exact decimal string beyond", () => {
  const p: PointCodec = { table: "holding", type: "uint64" };
  assert.equal(decodeRegisters(p, encodeRegisters("p", p, "9007199254740991"), 0), 9007199254740991);
  assert.equal(decodeRegisters(p, encodeRegisters("p", p, "9007199254740992"), 0), "9007199254740992");
  const s: PointCodec = { table: "holding", type: "int64", order: "DCBA" };
  assert.equal(decodeRegisters(s, encodeRegisters("p", s, "-9223372036854775808"), 0), "-9223372036854775808");
  assert.equal(decodeRegisters(s, encodeRegisters("p", s, -9007199254740991), 0), -9007199254740991);
  // integer scale stays exact in BigInt arithmetic
  const k: PointCodec = { table: "holding", type: "uint64", scale: 10, offset: 1 };
  assert.equal(decodeRegisters(k, [0x0100, 0, 0, 0], 0), "720575940379279361");
  assert.throws(() => encodeRegisters("p", p, "18446744073709551616"), /out of range/);
});

test("round trip of every type and order", () => {
  const values: [PointCodec["type"], number | string][] = [
    ["int16", -2],
    ["uint16", 65535],
    ["int32", -2147483648],
    ["uint32", 4294967295],
    ["float32", -0.15625],
    ["float64", Math.PI],
    ["int64", "-1234567890123456789"],
    ["uint64", "12345678901234567890"],
  ];
  for (const o of ORDERS)
    for (const [type, v] of values) {
      const p: PointCodec = { table: "holding", type, order: o };
      assert.equal(decodeRegisters(p, encodeRegisters("p", p, v), 0), v, `${type} ${o}`);
    }
});

test("scale and offset: decimal factors are exact, writes invert them", () => {
  assert.equal(applyScale(12345, 0.01, undefined), 123.45);
  assert.equal(applyScale(3, 0.1, 0), 0.3);
  assert.equal(applyScale(10, 2.5, -1), 24);
  const p: PointCodec = { table: "holding", type: "int16", scale: 0.1, offset: -20 };
  assert.deepEqual(encodeRegisters("p", p, 103.4), [1234]);
  assert.equal(decodeRegisters(p, [1234], 0), 103.4);
});

test("strings, bits of registers and booleans", () => {
  const p: PointCodec = { table: "input", type: "string", length: 3 };
  assert.deepEqual(encodeRegisters("p", p, "AB1"), [0x4142, 0x3100, 0]);
  assert.equal(decodeRegisters(p, [0x4142, 0x3100, 0], 0), "AB1");
  assert.equal(decodeRegisters({ ...p, order: "BADC" }, [0x4241, 0x0031, 0], 0), "AB1");
  assert.throws(() => encodeRegisters("p", p, "ABCDEFG"), /longer than 6/);
  assert.equal(decodeRegisters({ table: "holding", type: "bool", bit: 15 }, [0x8000], 0), true);
  assert.equal(decodeRegisters({ table: "holding", type: "bool", bit: 14 }, [0x8000], 0), false);
  assert.equal(withBit(0x00f0, 0, true), 0x00f1);
  assert.equal(withBit(0x00f1, 4, false), 0x00e1);
  assert.equal(encodeBool("p", 0), false);
  assert.equal(encodeBool("p", "true"), true);
  assert.throws(() => encodeBool("p", 2), /not a boolean/);
});
