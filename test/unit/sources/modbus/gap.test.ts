import assert from "node:assert/strict";
import { test } from "node:test";
import { interFrameGapMs } from "../../../../src/sources/modbus/bus.js";
import { crc16, wireMs } from "../../../../src/sources/modbus/slave.js";

test("serial inter-frame gap is 3.5 characters at the line's framing, plus the configured delay", () => {
  assert.equal(
    interFrameGapMs({ id: "a", transport: "rtu", path: "/dev/x", baudRate: 9600 }),
    (3.5 * 10 * 1000) / 9600,
  );
  assert.equal(
    interFrameGapMs({ id: "a", transport: "rtu", path: "/dev/x", baudRate: 9600, parity: "even" }),
    (3.5 * 11 * 1000) / 9600,
  );
  assert.equal(interFrameGapMs({ id: "a", transport: "rtu", path: "/dev/x", baudRate: 115200 }), 1.75);
  assert.equal(
    interFrameGapMs({ id: "a", transport: "rtu", path: "/dev/x", baudRate: 19200, interFrameDelayMs: 20 }),
    (3.5 * 10 * 1000) / 19200 + 20,
  );
  assert.equal(interFrameGapMs({ id: "a", transport: "tcp", host: "h" }), 0);
  assert.equal(interFrameGapMs({ id: "a", transport: "rtu-over-tcp", host: "h" }), 0);
  assert.equal(wireMs(96, 9600), 100);
});

test("CRC-16/MODBUS of a known frame", () => {
  // 01 03 00 00 00 0A → CRC C5CD (sent low byte first: CD C5)
  assert.equal(crc16(Buffer.from([1, 3, 0, 0, 0, 0x0a])), 0xcdc5);
});
