// One Modbus bus: a connection (TCP, serial RTU, or RTU over TCP) and a queue that sends one request
// at a time. modbus-serial keeps the unit id as client state, so setID happens inside the queue.
// Serial lines get the 3.5-character silence (+ interFrameDelayMs) between frames; a lost connection
// or port is reopened with exponential backoff, and queued work fails fast while it is down.

import modbusSerial from "modbus-serial";
import type { ModbusBusConfig } from "../../config/schema.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { AgentError, type ErrorCode, errorMessage } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { MetricsRegistry } from "../../core/metrics.js";

type Client = InstanceType<typeof modbusSerial.default>;
// At run time the CommonJS module object is the client class itself.
const ModbusRTU = modbusSerial as unknown as new () => Client;

export type RequestFailure = "timeout" | "exception" | "crc" | "disconnected" | "error";

/** A failed request, with the reason the poller and the writer need to react differently. */
export class ModbusRequestError extends AgentError {
  readonly kind: RequestFailure;
  readonly exceptionCode: number | undefined;
  constructor(kind: RequestFailure, message: string, exceptionCode?: number, cause?: unknown) {
    const code: ErrorCode =
      kind === "timeout"
        ? "EA_MODBUS_TIMEOUT"
        : kind === "exception"
          ? "EA_MODBUS_EXCEPTION"
          : "EA_MODBUS_DISCONNECTED";
    super(code, message, { cause });
    this.kind = kind;
    this.exceptionCode = exceptionCode;
  }
}

export const EXCEPTION_NAMES: Record<number, string> = {
  1: "illegal function",
  2: "illegal data address",
  3: "illegal data value",
  4: "server device failure",
  5: "acknowledge",
  6: "server device busy",
  10: "gateway path unavailable",
  11: "gateway target device failed to respond",
};

interface Job {
  unit: number;
  what: string;
  run(c: Client): Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type State = "idle" | "connecting" | "open" | "backoff" | "stopped";

export interface BusOptions {
  config: ModbusBusConfig;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

export const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_RECONNECT_MIN_MS = 500;
const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** Consecutive timeouts after which a TCP connection is presumed half-open and reopened. */
const TCP_TIMEOUTS_BEFORE_RECONNECT = 3;

/** Silence between frames: 3.5 characters (fixed 1.75 ms above 19200 baud, per the RTU spec). */
export function interFrameGapMs(cfg: ModbusBusConfig): number {
  const extra = cfg.interFrameDelayMs ?? 0;
  if (cfg.transport === "tcp") return extra;
  const baud = cfg.baudRate ?? (cfg.transport === "rtu" ? 9600 : 0);
  if (baud === 0) return extra;
  const bitsPerChar = 1 + (cfg.dataBits ?? 8) + ((cfg.parity ?? "none") === "none" ? 0 : 1) + (cfg.stopBits ?? 1);
  const gap = baud > 19200 ? 1.75 : (3.5 * bitsPerChar * 1000) / baud;
  return gap + extra;
}

export class ModbusBus {
  readonly id: string;
  readonly timeoutMs: number;
  readonly #cfg: ModbusBusConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #queue: Job[] = [];
  readonly #gapMs: number;
  #client: Client | null = null;
  #state: State = "idle";
  #busy = false;
  /** Settles the in-flight request (once); a lost connection calls it to fail that request at once. */
  #finishCurrent: ((err: unknown) => void) | null = null;
  #lastEnd = 0;
  #pumpTimer: TimerHandle | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #backoffMs: number;
  #consecutiveTimeouts = 0;
  #lastError = "";
  readonly #m: {
    ok: { inc(by?: number): void };
    timeout: { inc(by?: number): void };
    exception: { inc(by?: number): void };
    crc: { inc(by?: number): void };
    disconnected: { inc(by?: number): void };
    error: { inc(by?: number): void };
    timeouts: { inc(by?: number): void };
    seconds: { set(v: number): void };
    connected: { set(v: number): void };
    reconnects: { inc(by?: number): void };
  };

  constructor(opts: BusOptions) {
    this.#cfg = opts.config;
    this.id = opts.config.id;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.timeoutMs = opts.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#gapMs = interFrameGapMs(opts.config);
    this.#backoffMs = opts.config.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
    const req = opts.metrics.counter("edge_modbus_requests_total", "Modbus requests by bus and result");
    const bus = this.id;
    this.#m = {
      ok: req.bind({ bus, result: "ok" }),
      timeout: req.bind({ bus, result: "timeout" }),
      exception: req.bind({ bus, result: "exception" }),
      crc: req.bind({ bus, result: "crc" }),
      disconnected: req.bind({ bus, result: "disconnected" }),
      error: req.bind({ bus, result: "error" }),
      timeouts: opts.metrics.counter("edge_modbus_timeouts_total", "Modbus request timeouts per bus").bind({ bus }),
      seconds: opts.metrics.gauge("edge_modbus_request_seconds", "Duration of the last Modbus request").bind({ bus }),
      connected: opts.metrics.gauge("edge_modbus_bus_connected", "1 while the bus connection is open").bind({ bus }),
      reconnects: opts.metrics.counter("edge_modbus_reconnects_total", "Modbus bus reconnect attempts").bind({ bus }),
    };
  }

  get connected(): boolean {
    return this.#state === "open";
  }

  get lastError(): string {
    return this.#lastError;
  }

  start(): void {
    if (this.#state !== "idle") return;
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#state = "stopped";
    this.#clock.clearTimeout(this.#pumpTimer);
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#pumpTimer = undefined;
    this.#reconnectTimer = undefined;
    const stopped = new ModbusRequestError("disconnected", `bus ${this.id} is stopped`);
    // Settle the in-flight request now: it clears its guard timer and lets its poll finish.
    this.#finishCurrent?.(stopped);
    this.#failQueue(stopped);
    await this.#closeClient();
  }

  read(unit: number, fc: 1 | 2 | 3 | 4, address: number, count: number): Promise<number[] | boolean[]> {
    return this.#enqueue(unit, `FC${fc} ${address}+${count}`, async (c) => {
      const r =
        fc === 1
          ? await c.readCoils(address, count)
          : fc === 2
            ? await c.readDiscreteInputs(address, count)
            : fc === 3
              ? await c.readHoldingRegisters(address, count)
              : await c.readInputRegisters(address, count);
      return r.data;
    }) as Promise<number[] | boolean[]>;
  }

  writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    return this.#enqueue(unit, `FC5 ${address}`, async (c) => {
      await c.writeCoil(address, on);
    }) as Promise<void>;
  }

  writeRegisters(unit: number, address: number, regs: number[]): Promise<void> {
    return this.#enqueue(unit, `FC${regs.length === 1 ? 6 : 16} ${address}+${regs.length}`, async (c) => {
      if (regs.length === 1) await c.writeRegister(address, regs[0] as number);
      else await c.writeRegisters(address, regs);
    }) as Promise<void>;
  }

  #enqueue(unit: number, what: string, run: (c: Client) => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#state === "stopped" || this.#state === "backoff") {
        this.#m.disconnected.inc();
        reject(this.#downError());
        return;
      }
      this.#queue.push({ unit, what, run, resolve, reject });
      this.#pump();
    });
  }

  #downError(): ModbusRequestError {
    const why = this.#lastError ? `: ${this.#lastError}` : "";
    return new ModbusRequestError("disconnected", `bus ${this.id} (${this.#where()}) is not connected${why}`);
  }

  #where(): string {
    const c = this.#cfg;
    return c.transport === "rtu" ? `${c.path}` : `${c.host}:${c.port ?? 502}`;
  }

  #pump(): void {
    if (this.#busy || this.#state !== "open" || this.#queue.length === 0 || this.#pumpTimer !== undefined) return;
    const wait = this.#lastEnd + this.#gapMs - this.#clock.monotonic();
    if (wait > 0.05 && this.#gapMs > 0) {
      this.#pumpTimer = this.#clock.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const job = this.#queue.shift() as Job;
    const client = this.#client as Client;
    this.#busy = true;
    const t0 = this.#clock.monotonic();
    let settled = false;
    // modbus-serial's own timeout is the primary one; this guard covers a port that dies mid-request.
    const guard = this.#clock.setTimeout(
      () => finish(new ModbusRequestError("timeout", "guard")),
      this.timeoutMs + 250,
    );
    const finish = (err: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      this.#clock.clearTimeout(guard);
      this.#busy = false;
      this.#finishCurrent = null;
      this.#lastEnd = this.#clock.monotonic();
      this.#m.seconds.set((this.#lastEnd - t0) / 1000);
      if (err === undefined) {
        this.#consecutiveTimeouts = 0;
        this.#m.ok.inc();
        job.resolve(value);
      } else {
        const e = this.#classify(err, job);
        job.reject(e);
        if (e.kind === "timeout") {
          this.#m.timeouts.inc();
          this.#consecutiveTimeouts++;
          if (this.#cfg.transport !== "rtu" && this.#consecutiveTimeouts >= TCP_TIMEOUTS_BEFORE_RECONNECT) {
            this.#lostConnection(`${this.#consecutiveTimeouts} consecutive timeouts`);
          }
        } else if (e.kind !== "exception") this.#consecutiveTimeouts = 0;
      }
      if (this.#state === "open") this.#pump();
    };
    this.#finishCurrent = finish;
    try {
      client.setID(job.unit);
      job.run(client).then(
        (v) => finish(undefined, v),
        (e: unknown) => finish(e ?? new Error("request failed")),
      );
    } catch (e) {
      finish(e);
    }
  }

  #classify(err: unknown, job: Job): ModbusRequestError {
    if (err instanceof ModbusRequestError) {
      if (err.message === "guard") {
        this.#m.timeout.inc();
        return new ModbusRequestError(
          "timeout",
          `unit ${job.unit} on bus ${this.id} did not answer ${job.what} within ${this.timeoutMs} ms`,
        );
      }
      this.#m.disconnected.inc();
      return err;
    }
    const e = err as { modbusCode?: number; errno?: string; name?: string; message?: string };
    const where = `unit ${job.unit} on bus ${this.id}, ${job.what}`;
    if (typeof e.modbusCode === "number") {
      this.#m.exception.inc();
      const name = EXCEPTION_NAMES[e.modbusCode] ?? "unknown exception";
      return new ModbusRequestError("exception", `${where}: exception ${e.modbusCode} (${name})`, e.modbusCode, err);
    }
    if (e.errno === "ETIMEDOUT" || e.name === "TransactionTimedOutError") {
      this.#m.timeout.inc();
      return new ModbusRequestError("timeout", `${where}: no answer within ${this.timeoutMs} ms`, undefined, err);
    }
    const msg = errorMessage(err);
    if (/crc/i.test(msg)) {
      this.#m.crc.inc();
      return new ModbusRequestError("crc", `${where}: CRC error (noise or wiring on the line?)`, undefined, err);
    }
    if (/not open|closed|ECONNRESET|EPIPE/i.test(msg)) {
      this.#m.disconnected.inc();
      return new ModbusRequestError("disconnected", `${where}: ${msg}`, undefined, err);
    }
    this.#m.error.inc();
    return new ModbusRequestError("error", `${where}: ${msg}`, undefined, err);
  }

  #connect(): void {
    if (this.#state === "stopped") return;
    this.#state = "connecting";
    this.#m.reconnects.inc();
    const client = new ModbusRTU();
    this.#client = client;
    // Registered before connecting: an "error" emitted with no listener would crash the process,
    // and a late error from an abandoned attempt must be ignored.
    client.on("error", (err: unknown) => {
      if (this.#client === client && this.#state === "open") this.#lostConnection(errorMessage(err));
    });
    client.setTimeout(this.timeoutMs);
    const c = this.#cfg;
    let done = false;
    const timer = this.#clock.setTimeout(
      () => fail(new Error(`no connection within ${Math.max(this.timeoutMs, 1000)} ms`)),
      Math.max(this.timeoutMs, 1000),
    );
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      this.#clock.clearTimeout(timer);
      this.#lastError = errorMessage(err);
      this.#lostConnection(this.#lastError);
    };
    let p: Promise<void>;
    try {
      if (c.transport === "tcp") p = client.connectTCP(c.host ?? "127.0.0.1", { port: c.port ?? 502 });
      // modbus-serial's "telnet" port sends raw RTU frames (with CRC) over TCP, which is what a serial
      // device server in transparent mode expects; its "TcpRTUBuffered" port re-wraps frames in MBAP.
      else if (c.transport === "rtu-over-tcp") p = client.connectTelnet(c.host ?? "127.0.0.1", { port: c.port ?? 502 });
      else
        p = client.connectRTUBuffered(c.path ?? "", {
          baudRate: c.baudRate ?? 9600,
          parity: c.parity ?? "none",
          dataBits: c.dataBits ?? 8,
          stopBits: c.stopBits ?? 1,
        });
    } catch (err) {
      fail(err);
      return;
    }
    p.then(
      () => {
        if (done) {
          client.close(() => {});
          return;
        }
        done = true;
        this.#clock.clearTimeout(timer);
        if (this.#state === "stopped" || this.#client !== client) {
          client.close(() => {});
          return;
        }
        client.on("close", () => {
          if (this.#client === client) this.#lostConnection("connection closed by peer or port removed");
        });
        if (this.#lastError) this.#log.info({ bus: this.id }, `Modbus bus ${this.id} (${this.#where()}) reconnected`);
        this.#lastError = "";
        this.#state = "open";
        this.#m.connected.set(1);
        this.#backoffMs = c.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
        this.#consecutiveTimeouts = 0;
        this.#pump();
      },
      (err: unknown) => fail(err),
    );
  }

  #lostConnection(why: string): void {
    if (this.#state === "stopped" || this.#state === "backoff") return;
    const wasOpen = this.#state === "open";
    this.#state = "backoff";
    this.#lastError = why;
    this.#m.connected.set(0);
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#cfg.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS);
    this.#log.warn(
      { bus: this.id, retryInMs: Math.round(delay) },
      `Modbus bus ${this.id} (${this.#where()}) ${wasOpen ? "lost its connection" : "cannot connect"}: ${why}; retrying in ${Math.round(delay)} ms`,
    );
    const finish = this.#finishCurrent;
    if (finish) finish(new ModbusRequestError("disconnected", `bus ${this.id} (${this.#where()}): ${why}`));
    this.#failQueue(this.#downError());
    void this.#closeClient();
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, delay);
  }

  #failQueue(err: ModbusRequestError): void {
    const jobs = this.#queue.splice(0);
    for (const j of jobs) {
      this.#m.disconnected.inc();
      j.reject(err);
    }
  }

  async #closeClient(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (!c) return;
    const internals = c as unknown as {
      removeAllListeners(e: string): void;
      _cancelPendingTransactions?(): void;
      destroy?(cb: () => void): void;
    };
    internals.removeAllListeners("close");
    // close() alone leaves modbus-serial's per-request timers running (they would keep the process up).
    internals._cancelPendingTransactions?.();
    await new Promise<void>((resolve) => {
      // A bound on waiting for the OS, not a schedule: real time, cleared as soon as the port closes.
      const bound = setTimeout(resolve, 1000);
      const done = () => {
        clearTimeout(bound);
        resolve();
      };
      try {
        // Sockets are destroyed (end() would wait for a peer that may never answer); serial ports closed.
        if (this.#cfg.transport !== "rtu" && internals.destroy) internals.destroy(done);
        else if (c.isOpen) c.close(done);
        else if (internals.destroy) internals.destroy(done);
        else done();
      } catch {
        done();
      }
    });
  }
}
