// A small Modbus slave (server) over TCP (MBAP) or RTU on any byte stream: the register memory of
// the simulated meter and of the protocol tests. It answers FC 1-6, 15 and 16, counts requests, and
// lets a caller inject faults per request to exercise the client: silence, exceptions, and (RTU only)
// a bad CRC, an answer that loses its last byte, line garbage, or an answer from another unit id.

import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface SlaveRequest {
  unit: number;
  fc: number;
  address: number;
  count: number;
}

/** A damaged RTU answer (on TCP these are silence). */
export type SlaveFault = "bad-crc" | "truncate" | "garbage" | "wrong-unit";

/** What the fault hook decides for one request: answer normally, stay silent, a fault, or an exception code. */
export type SlaveVerdict = undefined | "ok" | "silence" | SlaveFault | number;

/** An answer PDU, marked when the RTU framing must damage it. */
export type SlaveAnswer = Buffer & { fault?: SlaveFault };

export interface SlaveMemory {
  coils: Uint8Array;
  discrete: Uint8Array;
  holding: Uint16Array;
  input: Uint16Array;
}

export function newMemory(): SlaveMemory {
  return {
    coils: new Uint8Array(65536),
    discrete: new Uint8Array(65536),
    holding: new Uint16Array(65536),
    input: new Uint16Array(65536),
  };
}

export interface SlaveOptions {
  /** Unit ids this slave answers; others get no answer (RTU) or exception 0x0B (TCP). Empty = all. */
  units?: readonly number[];
  /** Per-unit memory; units not listed share `memory`. */
  memory?: SlaveMemory;
  unitMemory?: Map<number, SlaveMemory>;
  /** Addresses at or above this (per table) are "illegal data address" (default: all readable). */
  limit?: Partial<Record<"coil" | "discrete" | "holding" | "input", number>>;
  /** Called before every request is answered. */
  onRequest?: (req: SlaveRequest) => SlaveVerdict;
  /** RTU only: delay each answer by the wire time of request + response at this baud (line emulation). */
  emulateBaud?: number;
}

const TABLE_OF_FC: Record<number, "coil" | "discrete" | "holding" | "input"> = {
  1: "coil",
  2: "discrete",
  3: "holding",
  4: "input",
  5: "coil",
  6: "holding",
  15: "coil",
  16: "holding",
};

export class ModbusSlave {
  readonly opts: SlaveOptions;
  readonly memory: SlaveMemory;
  requests = 0;
  readonly log: SlaveRequest[] = [];
  keepLog = false;

  constructor(opts: SlaveOptions = {}) {
    this.opts = opts;
    this.memory = opts.memory ?? newMemory();
  }

  memoryOf(unit: number): SlaveMemory {
    return this.opts.unitMemory?.get(unit) ?? this.memory;
  }

  serves(unit: number): boolean {
    const u = this.opts.units;
    return u === undefined || u.length === 0 || u.includes(unit);
  }

  /** Answers one PDU; returns the response PDU, or null for silence. */
  handle(unit: number, pdu: Buffer): SlaveAnswer | null {
    const fc = pdu[0] ?? 0;
    const address = pdu.length >= 3 ? pdu.readUInt16BE(1) : 0;
    const count = fc === 5 || fc === 6 ? 1 : pdu.length >= 5 ? pdu.readUInt16BE(3) : 0;
    const req: SlaveRequest = { unit, fc, address, count };
    this.requests++;
    if (this.keepLog) this.log.push(req);
    const verdict = this.opts.onRequest?.(req);
    if (verdict === "silence") return null;
    const exception = (code: number) => Buffer.from([fc | 0x80, code]);
    if (typeof verdict === "number") return exception(verdict);
    const table = TABLE_OF_FC[fc];
    if (table === undefined) return exception(1);
    const limit = this.opts.limit?.[table] ?? 65536;
    if (address + count > limit || count < 1) return exception(2);
    const m = this.memoryOf(unit);
    let res: Buffer;
    switch (fc) {
      case 1:
      case 2: {
        if (count > 2000) return exception(3);
        const bits = fc === 1 ? m.coils : m.discrete;
        const n = Math.ceil(count / 8);
        res = Buffer.alloc(2 + n);
        res[0] = fc;
        res[1] = n;
        for (let i = 0; i < count; i++)
          if (bits[address + i]) res[2 + (i >> 3)] = (res[2 + (i >> 3)] ?? 0) | (1 << (i & 7));
        break;
      }
      case 3:
      case 4: {
        if (count > 125) return exception(3);
        const regs = fc === 3 ? m.holding : m.input;
        res = Buffer.alloc(2 + count * 2);
        res[0] = fc;
        res[1] = count * 2;
        for (let i = 0; i < count; i++) res.writeUInt16BE(regs[address + i] ?? 0, 2 + i * 2);
        break;
      }
      case 5:
        m.coils[address] = pdu.readUInt16BE(3) === 0xff00 ? 1 : 0;
        res = Buffer.from(pdu.subarray(0, 5));
        break;
      case 6:
        m.holding[address] = pdu.readUInt16BE(3);
        res = Buffer.from(pdu.subarray(0, 5));
        break;
      case 15:
        for (let i = 0; i < count; i++) m.coils[address + i] = ((pdu[6 + (i >> 3)] ?? 0) >> (i & 7)) & 1;
        res = Buffer.from(pdu.subarray(0, 5));
        break;
      default:
        for (let i = 0; i < count; i++) m.holding[address + i] = pdu.readUInt16BE(6 + i * 2);
        res = Buffer.from(pdu.subarray(0, 5));
        break;
    }
    return typeof verdict === "string" && verdict !== "ok" ? Object.assign(res, { fault: verdict }) : res;
  }
}

// ---- TCP (MBAP) -------------------------------------------------------------------------------

export class ModbusTcpSlave {
  readonly slave: ModbusSlave;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  port = 0;

  constructor(slave: ModbusSlave) {
    this.slave = slave;
  }

  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    const server = createServer((s) => this.#onSocket(s));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const a = server.address();
    this.port = typeof a === "object" && a ? a.port : port;
    return this.port;
  }

  /** Drops every open connection (a peer that closes) while still listening. */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  connections(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    this.dropConnections();
    const srv = this.#server;
    this.#server = null;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }

  #onSocket(s: Socket): void {
    this.#sockets.add(s);
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    s.on("close", () => this.#sockets.delete(s));
    s.on("error", () => s.destroy());
    s.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 7) {
        const len = buf.readUInt16BE(4);
        if (buf.length < 6 + len) break;
        const frame = buf.subarray(0, 6 + len);
        buf = buf.subarray(6 + len);
        const unit = frame[6] ?? 0;
        const pdu = frame.subarray(7);
        let res: SlaveAnswer | null;
        if (!this.slave.serves(unit)) res = Buffer.from([(pdu[0] ?? 0) | 0x80, 0x0b]);
        else res = this.slave.handle(unit, pdu);
        if (res === null || res.fault !== undefined) continue;
        const out = Buffer.alloc(7 + res.length);
        frame.copy(out, 0, 0, 4);
        out.writeUInt16BE(res.length + 1, 4);
        out[6] = unit;
        res.copy(out, 7);
        if (!s.destroyed) s.write(out);
      }
    });
  }
}

// ---- RTU on a byte stream ---------------------------------------------------------------------

export function crc16(buf: Uint8Array, end = buf.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= buf[i] as number;
    for (let j = 0; j < 8; j++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return crc;
}

/** Expected length of a request frame from its first bytes, or 0 when not yet known. */
function requestLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const fc = buf[1] as number;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length >= 7 ? 9 + (buf[6] as number) : 0;
  return -1;
}

/** Wire time of `bytes` at `baud` with 8N1 framing (10 bits per character), in ms. */
export function wireMs(bytes: number, baud: number): number {
  return (bytes * 10 * 1000) / baud;
}

/** Garbage a noisy line delivers instead of an answer: never starts with a plausible unit id. */
const GARBAGE = Buffer.from([0x00, 0xff, 0x13, 0x37, 0xa5, 0x5a, 0xc3]);

/** The RTU frame for an answer PDU, damaged as its fault asks. */
function rtuAnswer(unit: number, res: SlaveAnswer): Buffer {
  if (res.fault === "garbage") return GARBAGE;
  const out = Buffer.alloc(res.length + 3);
  out[0] = res.fault === "wrong-unit" ? (unit % 247) + 1 : unit;
  res.copy(out, 1);
  const crc = crc16(out, out.length - 2);
  out.writeUInt16LE(res.fault === "bad-crc" ? crc ^ 0x5a5a : crc, out.length - 2);
  return res.fault === "truncate" ? out.subarray(0, out.length - 1) : out;
}

/** Serves RTU on a duplex stream (a serial port, a pty). Returns a function that detaches. */
export function serveRtu(slave: ModbusSlave, stream: Duplex): () => void {
  let buf: Buffer = Buffer.alloc(0);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const need = requestLength(buf);
      if (need < 0) {
        buf = Buffer.alloc(0); // unknown function: resynchronise on the next frame
        return;
      }
      if (need === 0 || buf.length < need) return;
      const frame = buf.subarray(0, need);
      buf = buf.subarray(need);
      if (crc16(frame, need - 2) !== frame.readUInt16LE(need - 2)) continue;
      const unit = frame[0] as number;
      if (!slave.serves(unit) || unit === 0) continue;
      const res = slave.handle(unit, frame.subarray(1, need - 2));
      if (res === null) continue;
      const out = rtuAnswer(unit, res);
      const baud = slave.opts.emulateBaud;
      if (baud) {
        const t = setTimeout(
          () => {
            timers.delete(t);
            stream.write(out);
          },
          wireMs(need + out.length, baud),
        );
        timers.add(t);
      } else stream.write(out);
    }
  };
  stream.on("data", onData);
  return () => {
    stream.off("data", onData);
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
}
