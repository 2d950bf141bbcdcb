// The RTU framer on an in-memory stream with a manual clock: what it accepts as the answer to the
// request just sent, what it refuses, and when the line counts as quiet again.

import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { test } from "node:test";
import { ManualClock } from "../../../../src/core/clock.js";
import type { ModbusLink } from "../../../../src/sources/modbus/link-types.js";
import { crc16, RtuLink } from "../../../../src/sources/modbus/rtu.js";
import { crc16 as referenceCrc } from "../../../../src/sources/modbus/slave.js";

function frame(...bytes: number[]): Buffer {
  const b = Buffer.alloc(bytes.length + 2);
  Buffer.from(bytes).copy(b);
  b.writeUInt16LE(referenceCrc(b, bytes.length), bytes.length);
  return b;
}

function setup(): { link: ModbusLink; clock: ManualClock; sent: Buffer[]; answer(b: Buffer): void } {
  const clock = new ManualClock();
  const sent: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      sent.push(chunk);
      cb();
    },
  });
  const link = new RtuLink(
    stream,
    {
      config: { id: "t", transport: "rtu", path: "/dev/null", baudRate: 9600 },
      clock,
      timeoutMs: 100,
      gapMs: 4,
      events: { lost() {} },
    },
    async () => {},
    4,
  );
  // Data events are delivered synchronously by emit, like a port's "data".
  return { link, clock, sent, answer: (b) => stream.emit("data", b) };
}

test("table CRC matches the bitwise reference", () => {
  const b = Buffer.from([1, 3, 0, 0, 0, 0x0a, 0xff, 0x00, 0x42]);
  for (let n = 0; n <= b.length; n++) assert.equal(crc16(b, n), referenceCrc(b, n));
});

test("a read answer in pieces is accepted; the request frame is correct", async () => {
  const { link, sent, answer } = setup();
  const p = link.read(7, 3, 0x10, 2);
  assert.deepEqual(sent[0], frame(7, 3, 0x00, 0x10, 0x00, 0x02));
  const a = frame(7, 3, 4, 0x12, 0x34, 0xab, 0xcd);
  answer(a.subarray(0, 3));
  answer(a.subarray(3));
  assert.deepEqual(await p, [0x1234, 0xabcd]);
});

test("coils unpack to booleans; an exception is a well-formed answer", async () => {
  const { link, answer } = setup();
  const p = link.read(1, 1, 0, 10);
  answer(frame(1, 1, 2, 0b1000_0101, 0b10));
  assert.deepEqual(await p, [true, false, true, false, false, false, false, true, false, true]);
  const q = link.read(1, 4, 0, 1);
  answer(frame(1, 0x84, 2));
  await assert.rejects(q, (e: Error & { kind?: string; exceptionCode?: number }) => {
    assert.equal(e.kind, "exception");
    assert.equal(e.exceptionCode, 2);
    return true;
  });
});

test("wrong byte count, bad echo and CRC errors are refused; stray bytes make the line wait", async () => {
  const { link, clock, answer } = setup();
  const a = link.read(1, 3, 0, 1);
  answer(frame(1, 3, 4, 0, 1, 0, 2));
  await assert.rejects(a, /4 data bytes, expected 2/);
  const w = link.writeRegisters(1, 5, [9]);
  answer(frame(1, 6, 0, 6, 0, 9));
  await assert.rejects(w, /echoed/);
  const c = link.writeCoil(1, 5, true);
  const bad = frame(1, 5, 0, 5, 0xff, 0);
  bad[bad.length - 1] ^= 1;
  answer(bad);
  await assert.rejects(c, /CRC/);
  // The rest of a bad answer arrives after the request failed: dropped, and the quiet gap restarts.
  clock.advance(10);
  answer(Buffer.from([0x55, 0x66]));
  assert.equal(link.quietAt(), clock.monotonic() + 4);
  const ok = link.writeRegisters(1, 5, [9, 10]);
  answer(frame(1, 16, 0, 5, 0, 2));
  await ok;
});

test("silence is a timeout; a partial answer is reported as incomplete", async () => {
  const { link, clock, answer } = setup();
  const a = link.read(1, 3, 0, 1);
  clock.advance(100);
  await assert.rejects(a, /no answer within 100 ms/);
  const b = link.read(1, 3, 0, 1);
  answer(frame(1, 3, 2, 0, 7).subarray(0, 6));
  clock.advance(100);
  await assert.rejects(b, /incomplete answer within 100 ms \(6 bytes: 01 03 02 00 07/);
});
