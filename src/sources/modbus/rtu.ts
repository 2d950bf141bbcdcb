// Modbus RTU framing on a byte stream (a serial port, or a TCP socket to a device server in
// transparent mode). RTU has no transaction id, so an answer is only trusted when it starts right
// after our request and matches it: unit id, function code, byte count (or echoed address), length
// and CRC. Anything else fails the request at once, and every byte that arrives while no request is
// waiting is thrown away; the bus then waits until the line has been quiet for a frame gap before
// the next request, so the tail of a bad answer can never be taken for the next one.

import { createConnection, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { SerialPort } from "serialport";
import { DEFAULTS } from "../../config/defaults.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { errorMessage } from "../../core/errors.js";
import { LinkError, type LinkOptions, type ModbusLink } from "./link-types.js";

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >> 1) ^ 0xa001 : c >> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/MODBUS of buf[0..end). */
export function crc16(buf: Uint8Array, end = buf.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) crc = (crc >> 8) ^ (CRC_TABLE[(crc ^ (buf[i] as number)) & 0xff] as number);
  return crc;
}

/** #judge's answer when the frame is not complete yet. */
const WAIT = Symbol("wait");
/** The longest RTU frame (256 bytes); anything past it is noise. */
const MAX_FRAME = 256;
/** A device server forwards bytes in TCP segments that the network may delay: a wider quiet gap. */
const MIN_QUIET_OVER_TCP_MS = 10;
/** The RTU minimum above 19200 baud; used when a line's baud rate is not known. */
const MIN_QUIET_MS = 1.75;

interface Pending {
  unit: number;
  fc: number;
  count: number;
  /** Length of the normal answer. */
  need: number;
  /** Byte count the answer must carry (reads), or -1 (writes echo address and value instead). */
  byteCount: number;
  frame: Buffer;
  timer: TimerHandle;
  resolve(v: number[] | boolean[] | undefined): void;
  reject(e: LinkError): void;
}

function hex(b: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < Math.min(n, 8); i++) s += `${i ? " " : ""}${(b[i] as number).toString(16).padStart(2, "0")}`;
  return n > 8 ? `${s} …` : s;
}

export class RtuLink implements ModbusLink {
  readonly #stream: Duplex;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #quietMs: number;
  readonly #close: () => Promise<void>;
  readonly #rx = Buffer.alloc(MAX_FRAME);
  #len = 0;
  #pending: Pending | null = null;
  /** Monotonic time of the last byte that was not part of an accepted answer. */
  #lastStray = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(stream: Duplex, opts: LinkOptions, close: () => Promise<void>, quietMs: number) {
    this.#stream = stream;
    this.#clock = opts.clock;
    this.#timeoutMs = opts.timeoutMs;
    this.#quietMs = quietMs;
    this.#close = close;
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
  }

  read(unit: number, fc: 1 | 2 | 3 | 4, address: number, count: number): Promise<number[] | boolean[]> {
    const f = Buffer.allocUnsafe(8);
    f[0] = unit;
    f[1] = fc;
    f.writeUInt16BE(address, 2);
    f.writeUInt16BE(count, 4);
    const byteCount = fc <= 2 ? (count + 7) >> 3 : count * 2;
    return this.#send(f, unit, fc, count, 5 + byteCount, byteCount) as Promise<number[] | boolean[]>;
  }

  async writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    const f = Buffer.allocUnsafe(8);
    f[0] = unit;
    f[1] = 5;
    f.writeUInt16BE(address, 2);
    f.writeUInt16BE(on ? 0xff00 : 0, 4);
    await this.#send(f, unit, 5, 1, 8, -1);
  }

  async writeRegisters(unit: number, address: number, regs: readonly number[]): Promise<void> {
    if (regs.length === 1) {
      const f = Buffer.allocUnsafe(8);
      f[0] = unit;
      f[1] = 6;
      f.writeUInt16BE(address, 2);
      f.writeUInt16BE(regs[0] as number, 4);
      await this.#send(f, unit, 6, 1, 8, -1);
      return;
    }
    const f = Buffer.allocUnsafe(9 + regs.length * 2);
    f[0] = unit;
    f[1] = 16;
    f.writeUInt16BE(address, 2);
    f.writeUInt16BE(regs.length, 4);
    f[6] = regs.length * 2;
    for (let i = 0; i < regs.length; i++) f.writeUInt16BE(regs[i] as number, 7 + i * 2);
    await this.#send(f, unit, 16, regs.length, 8, -1);
  }

  quietAt(): number {
    return this.#lastStray + this.#quietMs;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#fail(new LinkError("frame", "the port was closed"));
    return this.#close();
  }

  #send(
    f: Buffer,
    unit: number,
    fc: number,
    count: number,
    need: number,
    byteCount: number,
  ): Promise<number[] | boolean[] | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#closed || this.#pending) {
        reject(new LinkError("frame", this.#closed ? "the port is closed" : "a request is already waiting"));
        return;
      }
      f.writeUInt16LE(crc16(f, f.length - 2), f.length - 2);
      // Whatever arrived before this request cannot be its answer.
      this.#len = 0;
      const timer = this.#clock.setTimeout(() => this.#timedOut(), this.#timeoutMs);
      this.#pending = { unit, fc, count, need, byteCount, frame: f, timer, resolve, reject };
      this.#stream.write(f);
    });
  }

  #onData(chunk: Buffer): void {
    const p = this.#pending;
    if (p === null) {
      // Late or unsolicited bytes: dropped, and they restart the silence before the next request.
      this.#lastStray = this.#clock.monotonic();
      return;
    }
    const room = MAX_FRAME - this.#len;
    chunk.copy(this.#rx, this.#len, 0, Math.min(room, chunk.length));
    this.#len += Math.min(room, chunk.length);
    if (chunk.length > room) this.#lastStray = this.#clock.monotonic();
    this.#check(p);
  }

  #check(p: Pending): void {
    const n = this.#len;
    if (n < 2) return;
    const v = this.#judge(p, n);
    if (v === WAIT) return;
    if (v instanceof LinkError) this.#reject(v, v.kind !== "exception");
    else this.#resolve(v);
  }

  /** The verdict on the bytes received so far: wait for more, an error, or the decoded answer. */
  #judge(p: Pending, n: number): typeof WAIT | LinkError | number[] | boolean[] | undefined {
    const b = this.#rx;
    const unit = b[0] as number;
    const fc = b[1] as number;
    const isException = fc === (p.fc | 0x80);
    if (unit !== p.unit || (fc !== p.fc && !isException)) {
      if (fc === p.fc || isException)
        return new LinkError("frame", `unit ${unit} answered a request for unit ${p.unit}`);
      return new LinkError("frame", `garbled answer (${hex(b, n)}; noise on the line, wrong baud rate or parity?)`);
    }
    if (!isException && p.byteCount >= 0 && n >= 3 && b[2] !== p.byteCount)
      return new LinkError("frame", `answer carries ${b[2]} data bytes, expected ${p.byteCount}`);
    const need = isException ? 5 : p.need;
    if (n < need) return WAIT;
    if (crc16(b, need - 2) !== b.readUInt16LE(need - 2)) return new LinkError("crc", "CRC error");
    // Bytes past the answer are noise: the answer stands, the silence before the next request restarts.
    if (n > need) this.#lastStray = this.#clock.monotonic();
    if (isException) return new LinkError("exception", `exception ${b[2]}`, b[2]);
    if (p.byteCount < 0) {
      if (b.compare(p.frame, 2, 6, 2, 6) !== 0)
        return new LinkError("frame", `the write was echoed as ${hex(b, need)}`);
      return undefined;
    }
    if (p.fc <= 2) {
      const bits: boolean[] = new Array(p.count);
      for (let i = 0; i < p.count; i++) bits[i] = (((b[3 + (i >> 3)] as number) >> (i & 7)) & 1) === 1;
      return bits;
    }
    const regs: number[] = new Array(p.count);
    for (let i = 0; i < p.count; i++) regs[i] = b.readUInt16BE(3 + i * 2);
    return regs;
  }

  #timedOut(): void {
    const p = this.#pending;
    if (!p) return;
    if (this.#len === 0) this.#reject(new LinkError("timeout", `no answer within ${this.#timeoutMs} ms`));
    else
      this.#reject(
        new LinkError(
          "frame",
          `incomplete answer within ${this.#timeoutMs} ms (${this.#len} bytes: ${hex(this.#rx, this.#len)})`,
        ),
      );
  }

  #resolve(v: number[] | boolean[] | undefined): void {
    const p = this.#pending as Pending;
    this.#pending = null;
    this.#clock.clearTimeout(p.timer);
    p.resolve(v);
  }

  /** Fails the waiting request; unless the answer was a well-formed exception, the line is dirty. */
  #reject(e: LinkError, dirty = true): void {
    const p = this.#pending as Pending;
    this.#pending = null;
    this.#clock.clearTimeout(p.timer);
    if (dirty) this.#lastStray = this.#clock.monotonic();
    p.reject(e);
  }

  #fail(e: LinkError): void {
    if (this.#pending) this.#reject(e);
  }
}

// ---- opening ----------------------------------------------------------------------------------

/** Silence before a request after stray bytes: the frame gap, never below the RTU minimum. */
function quietMs(opts: LinkOptions, overTcp: boolean): number {
  return Math.max(opts.gapMs, overTcp ? MIN_QUIET_OVER_TCP_MS : MIN_QUIET_MS);
}

export async function openSerial(opts: LinkOptions): Promise<ModbusLink> {
  const c = opts.config;
  const port = new SerialPort({
    path: c.path ?? "",
    baudRate: c.baudRate ?? 9600,
    parity: c.parity ?? "none",
    dataBits: c.dataBits ?? 8,
    stopBits: c.stopBits ?? 1,
    autoOpen: false,
  });
  let open = false;
  // Registered before opening: an "error" emitted with no listener would crash the process.
  port.on("error", (err) => {
    if (open) opts.events.lost(errorMessage(err));
  });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  open = true;
  const close = () =>
    new Promise<void>((resolve) => {
      open = false;
      port.removeAllListeners("close");
      if (!port.isOpen) return resolve();
      port.close(() => resolve());
    });
  port.on("close", () => {
    if (open) opts.events.lost("port closed or removed");
  });
  return new RtuLink(port, opts, close, quietMs(opts, false));
}

export async function openRtuOverTcp(opts: LinkOptions): Promise<ModbusLink> {
  const c = opts.config;
  const socket: Socket = createConnection({ host: c.host ?? "127.0.0.1", port: c.port ?? DEFAULTS.modbusPort });
  let open = false;
  socket.setNoDelay(true);
  socket.on("error", (err) => {
    if (open) opts.events.lost(errorMessage(err));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", (e) => {
      socket.destroy();
      reject(e);
    });
  });
  open = true;
  socket.on("close", () => {
    if (open) opts.events.lost("connection closed by peer");
  });
  const close = () =>
    new Promise<void>((resolve) => {
      open = false;
      if (socket.destroyed) return resolve();
      socket.once("close", () => resolve());
      socket.destroy();
    });
  return new RtuLink(socket, opts, close, quietMs(opts, true));
}
