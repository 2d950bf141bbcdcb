// Pure decoding and encoding of Modbus point values for every type and word/byte order (docs/modbus.md).
// Registers arrive as 16-bit words, high byte first on the wire; `order` names how the value's bytes
// A (most significant) … D are laid out across them. 64-bit integers stay exact: a number when
// |v| <= 2^53-1, otherwise a decimal string.

import { AgentError } from "../../core/errors.js";
import type { MetricValue } from "../../core/types.js";

export type PointTable = "coil" | "discrete" | "holding" | "input";
export type PointType =
  | "bool"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64"
  | "string";
export type WordOrder = "ABCD" | "CDAB" | "BADC" | "DCBA";

/** The subset of a point's config that decides how its value is read and written. */
export interface PointCodec {
  table: PointTable;
  type: PointType;
  order?: WordOrder;
  bit?: number;
  length?: number;
  scale?: number;
  offset?: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

export function isBitTable(table: PointTable): boolean {
  return table === "coil" || table === "discrete";
}

/** Width of a point in its table: bits for coils/discretes, registers otherwise. */
export function pointWidth(p: PointCodec): number {
  if (isBitTable(p.table)) return 1;
  switch (p.type) {
    case "bool":
    case "int16":
    case "uint16":
      return 1;
    case "int32":
    case "uint32":
    case "float32":
      return 2;
    case "int64":
    case "uint64":
    case "float64":
      return 4;
    case "string":
      return p.length ?? 1;
  }
}

// One scratch buffer: decoding is synchronous, so it is never shared between two calls.
const scratch = new DataView(new ArrayBuffer(256));

/** Puts `n` registers starting at `at` into scratch as the value's big-endian bytes (A first). */
function gather(regs: ArrayLike<number>, at: number, n: number, order: WordOrder): void {
  for (let i = 0; i < n; i++) {
    // Word i of the value comes from register i (ABCD/BADC) or from the mirrored one (CDAB/DCBA).
    const src = order === "ABCD" || order === "BADC" ? i : n - 1 - i;
    const r = (regs[at + src] as number) & 0xffff;
    const swap = order === "BADC" || order === "DCBA";
    scratch.setUint16(i * 2, swap ? ((r & 0xff) << 8) | (r >> 8) : r);
  }
}

/** Inverse of gather: scratch bytes (A first) → registers in wire order. */
function scatter(n: number, order: WordOrder): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const dst = order === "ABCD" || order === "BADC" ? i : n - 1 - i;
    const w = scratch.getUint16(i * 2);
    const swap = order === "BADC" || order === "DCBA";
    out[dst] = swap ? ((w & 0xff) << 8) | (w >> 8) : w;
  }
  return out;
}

/**
 * Scaling that stays exact for the common decimal factors: 0.01 becomes "divide by 100",
 * so a raw 12345 reads 123.45 and not 123.45000000000002.
 */
export function applyScale(raw: number, scale: number | undefined, offset: number | undefined): number {
  let v = raw;
  if (scale !== undefined && scale !== 1) {
    const inv = 1 / scale;
    const r = Math.round(inv);
    v = r !== 0 && Math.abs(inv - r) < 1e-9 * Math.abs(r) ? raw / r : raw * scale;
  }
  if (offset !== undefined && offset !== 0) v += offset;
  return v;
}

function scaleBig(raw: bigint, scale: number | undefined, offset: number | undefined): MetricValue {
  const s = scale ?? 1;
  const o = offset ?? 0;
  if (Number.isInteger(s) && Number.isInteger(o)) {
    const v = raw * BigInt(s) + BigInt(o);
    return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
  }
  // A fractional factor makes the result a measurement, not an identity: a double is honest here.
  return applyScale(Number(raw), s, o);
}

/** Decodes a register-table point at `at` within `regs`. */
export function decodeRegisters(p: PointCodec, regs: ArrayLike<number>, at: number): MetricValue {
  const order = p.order ?? "ABCD";
  switch (p.type) {
    case "bool":
      return (((regs[at] as number) >> (p.bit ?? 0)) & 1) === 1;
    case "uint16":
      return applyScale((regs[at] as number) & 0xffff, p.scale, p.offset);
    case "int16":
      return applyScale((((regs[at] as number) & 0xffff) << 16) >> 16, p.scale, p.offset);
    case "int32":
      gather(regs, at, 2, order);
      return applyScale(scratch.getInt32(0), p.scale, p.offset);
    case "uint32":
      gather(regs, at, 2, order);
      return applyScale(scratch.getUint32(0), p.scale, p.offset);
    case "float32":
      gather(regs, at, 2, order);
      return applyScale(scratch.getFloat32(0), p.scale, p.offset);
    case "float64":
      gather(regs, at, 4, order);
      return applyScale(scratch.getFloat64(0), p.scale, p.offset);
    case "int64":
      gather(regs, at, 4, order);
      return scaleBig(scratch.getBigInt64(0), p.scale, p.offset);
    case "uint64":
      gather(regs, at, 4, order);
      return scaleBig(scratch.getBigUint64(0), p.scale, p.offset);
    case "string":
      return decodeString(regs, at, p.length ?? 1, order);
  }
}

const utf8 = new TextDecoder("utf-8");
const stringBytes = new Uint8Array(512);

function decodeString(regs: ArrayLike<number>, at: number, len: number, order: WordOrder): string {
  // Strings are byte sequences: only the byte order inside a register applies (BADC/DCBA = low byte first).
  // They are decoded as UTF-8 (ASCII as before; a name in Chinese arrives as written), up to the first NUL.
  const lowFirst = order === "BADC" || order === "DCBA";
  const bytes = len * 2 <= stringBytes.length ? stringBytes : new Uint8Array(len * 2);
  let n = 0;
  for (let i = 0; i < len; i++) {
    const r = (regs[at + i] as number) & 0xffff;
    const b1 = lowFirst ? r & 0xff : r >> 8;
    const b2 = lowFirst ? r >> 8 : r & 0xff;
    if (b1 === 0) break;
    bytes[n++] = b1;
    if (b2 === 0) break;
    bytes[n++] = b2;
  }
  return utf8.decode(bytes.subarray(0, n)).trimEnd();
}

/** Decodes a coil/discrete point. */
export function decodeBit(bits: ArrayLike<boolean>, at: number): boolean {
  return bits[at] === true;
}

function encodeError(point: string, why: string): AgentError {
  return new AgentError("EA_MODBUS_WRITE", `cannot write ${point}: ${why}`);
}

function unscale(p: PointCodec, v: number): number {
  const s = p.scale ?? 1;
  const o = p.offset ?? 0;
  return (v - o) / s;
}

function toInteger(name: string, p: PointCodec, value: MetricValue, min: bigint, max: bigint): bigint {
  let raw: bigint;
  if (typeof value === "string") {
    if (!/^-?\d+$/.test(value.trim())) throw encodeError(name, `"${value}" is not an integer`);
    if ((p.scale ?? 1) !== 1 || (p.offset ?? 0) !== 0) {
      raw = BigInt(Math.round(unscale(p, Number(value))));
    } else raw = BigInt(value.trim());
  } else if (typeof value === "boolean") {
    raw = value ? 1n : 0n;
  } else {
    if (!Number.isFinite(value)) throw encodeError(name, `${value} is not a finite number`);
    raw = BigInt(Math.round(unscale(p, value)));
  }
  if (raw < min || raw > max) throw encodeError(name, `${value} is out of range for ${p.type}`);
  return raw;
}

/**
 * Encodes a value for a register-table point into the registers to write, in wire order.
 * Throws AgentError EA_MODBUS_WRITE when the value does not fit the point's type.
 */
export function encodeRegisters(name: string, p: PointCodec, value: MetricValue): number[] {
  const order = p.order ?? "ABCD";
  switch (p.type) {
    case "bool":
      throw encodeError(name, "a bit of a register is written by read-modify-write (use encodeBitOfRegister)");
    case "uint16":
      return [Number(toInteger(name, p, value, 0n, 0xffffn))];
    case "int16":
      return [Number(toInteger(name, p, value, -0x8000n, 0x7fffn)) & 0xffff];
    case "int32":
      scratch.setInt32(0, Number(toInteger(name, p, value, -0x80000000n, 0x7fffffffn)));
      return scatter(2, order);
    case "uint32":
      scratch.setUint32(0, Number(toInteger(name, p, value, 0n, 0xffffffffn)));
      return scatter(2, order);
    case "int64":
      scratch.setBigInt64(0, toInteger(name, p, value, -(2n ** 63n), 2n ** 63n - 1n));
      return scatter(4, order);
    case "uint64":
      scratch.setBigUint64(0, toInteger(name, p, value, 0n, 2n ** 64n - 1n));
      return scatter(4, order);
    case "float32":
    case "float64": {
      const n = typeof value === "number" ? value : typeof value === "boolean" ? Number(value) : Number(value);
      if (!Number.isFinite(n)) throw encodeError(name, `${String(value)} is not a finite number`);
      const raw = unscale(p, n);
      if (p.type === "float32") {
        scratch.setFloat32(0, raw);
        return scatter(2, order);
      }
      scratch.setFloat64(0, raw);
      return scatter(4, order);
    }
    case "string": {
      if (typeof value !== "string") throw encodeError(name, "a string point takes a string");
      const len = p.length ?? 1;
      // UTF-8, as strings are read.
      const bytes = Buffer.from(value, "utf8");
      if (bytes.length > len * 2) throw encodeError(name, `"${value}" is longer than ${len * 2} bytes (UTF-8)`);
      const lowFirst = order === "BADC" || order === "DCBA";
      const out = new Array<number>(len);
      for (let i = 0; i < len; i++) {
        const b1 = bytes[i * 2] ?? 0;
        const b2 = bytes[i * 2 + 1] ?? 0;
        out[i] = lowFirst ? (b2 << 8) | b1 : (b1 << 8) | b2;
      }
      return out;
    }
  }
}

/** A coil value from a metric value: booleans, 0/1 and "true"/"false" are accepted. */
export function encodeBool(name: string, value: MetricValue): boolean {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === "1" || value === "true" || value === "on") return true;
  if (value === 0 || value === "0" || value === "false" || value === "off") return false;
  throw encodeError(name, `${String(value)} is not a boolean`);
}

/** Sets or clears one bit of a register value (the read half of read-modify-write is the caller's). */
export function withBit(register: number, bit: number, on: boolean): number {
  return on ? (register | (1 << bit)) & 0xffff : register & ~(1 << bit) & 0xffff;
}
