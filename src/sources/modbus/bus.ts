// One Modbus bus: a connection (TCP, serial RTU, or RTU over TCP) and a queue that sends one request
// at a time. Serial lines get the 3.5-character silence (+ interFrameDelayMs) between frames, and
// after a bad answer the next request waits until the line has been quiet that long. A lost
// connection or port is reopened with exponential backoff (queued work fails fast while it is down),
// and so is one that gave `reopenAfterFailures` bad answers or timeouts in a row: a USB adapter or
// device server that has wedged recovers only when it is reopened.
// Over 400 lines: one request queue and the connection it owns (open, reopen, backoff, silence after
// a fault) change together; framing is rtu.ts and the TCP link is link.ts.

import type { ResolvedModbusBusConfig } from "../../config/defaults.js";
import type { ModbusBusConfig } from "../../config/schema.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { AgentError, type ErrorCode, errorMessage } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { MetricsRegistry } from "../../core/metrics.js";
import { openLink } from "./link.js";
import { LinkError, type ModbusLink } from "./link-types.js";

/** `frame`: an answer that does not belong to the request (wrong unit, garbled, incomplete). */
export type RequestFailure = "timeout" | "exception" | "crc" | "frame" | "disconnected" | "error";

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
  run(link: ModbusLink): Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type State = "idle" | "connecting" | "open" | "backoff" | "stopped";

export interface BusOptions {
  /** The resolved bus (resolveModbusBus in config/defaults.ts). */
  config: ResolvedModbusBusConfig;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

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
  readonly #cfg: ResolvedModbusBusConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #queue: Job[] = [];
  readonly #gapMs: number;
  readonly #reopenAfter: number;
  #link: ModbusLink | null = null;
  #state: State = "idle";
  #busy = false;
  /** Settles the in-flight request (once); a lost connection calls it to fail that request at once. */
  #finishCurrent: ((err: unknown) => void) | null = null;
  #lastEnd = 0;
  /** When the head of the queue started waiting for a noisy line to go quiet (0: not waiting). */
  #quietWaitSince = 0;
  #pumpTimer: TimerHandle | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #backoffMs: number;
  #consecutiveFailures = 0;
  /** Reopens for failures since the last good answer: only the first is worth a warning. */
  #failureReopens = 0;
  #lastError = "";
  readonly #m: {
    ok: { inc(by?: number): void };
    timeout: { inc(by?: number): void };
    exception: { inc(by?: number): void };
    crc: { inc(by?: number): void };
    frame: { inc(by?: number): void };
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
    this.timeoutMs = opts.config.timeoutMs;
    this.#gapMs = interFrameGapMs(opts.config);
    // A TCP connection that fails this often is presumed half-open; a serial line, wedged.
    this.#reopenAfter = opts.config.reopenAfterFailures;
    this.#backoffMs = opts.config.reconnectMinMs;
    const req = opts.metrics.counter("edge_modbus_requests_total", "Modbus requests by bus and result");
    const bus = this.id;
    this.#m = {
      ok: req.bind({ bus, result: "ok" }),
      timeout: req.bind({ bus, result: "timeout" }),
      exception: req.bind({ bus, result: "exception" }),
      crc: req.bind({ bus, result: "crc" }),
      frame: req.bind({ bus, result: "frame" }),
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
    await this.#closeLink();
  }

  read(unit: number, fc: 1 | 2 | 3 | 4, address: number, count: number): Promise<number[] | boolean[]> {
    return this.#enqueue(unit, `FC${fc} ${address}+${count}`, (l) => l.read(unit, fc, address, count)) as Promise<
      number[] | boolean[]
    >;
  }

  writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    return this.#enqueue(unit, `FC5 ${address}`, (l) => l.writeCoil(unit, address, on)) as Promise<void>;
  }

  writeRegisters(unit: number, address: number, regs: number[]): Promise<void> {
    return this.#enqueue(unit, `FC${regs.length === 1 ? 6 : 16} ${address}+${regs.length}`, (l) =>
      l.writeRegisters(unit, address, regs),
    ) as Promise<void>;
  }

  #enqueue(unit: number, what: string, run: (l: ModbusLink) => Promise<unknown>): Promise<unknown> {
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
    return c.transport === "rtu" ? `${c.path}` : `${c.host}:${c.port}`;
  }

  #pump(): void {
    if (this.#busy || this.#state !== "open" || this.#queue.length === 0 || this.#pumpTimer !== undefined) return;
    const link = this.#link as ModbusLink;
    const now = this.#clock.monotonic();
    // The frame gap after our last exchange, and a quiet line after stray bytes (a bad answer's tail).
    const readyAt = Math.max(this.#gapMs > 0 ? this.#lastEnd + this.#gapMs : 0, link.quietAt());
    if (readyAt - now > 0.05) {
      if (this.#quietWaitSince === 0) this.#quietWaitSince = now;
      if (now - this.#quietWaitSince <= this.timeoutMs) {
        this.#pumpTimer = this.#clock.setTimeout(() => {
          this.#pumpTimer = undefined;
          this.#pump();
        }, readyAt - now);
        return;
      }
      // A line that never goes quiet (another master, a babbling device): fail the request rather
      // than wait forever; enough of these reopen the port.
      const job = this.#queue.shift() as Job;
      this.#quietWaitSince = 0;
      this.#m.frame.inc();
      job.reject(
        new ModbusRequestError(
          "frame",
          `unit ${job.unit} on bus ${this.id}, ${job.what}: the line was never quiet for ${this.timeoutMs} ms ` +
            "(another master on the bus, or a device that keeps transmitting?)",
        ),
      );
      this.#countFailure("the line is never quiet");
      if (this.#state === "open") this.#pump();
      return;
    }
    this.#quietWaitSince = 0;
    const job = this.#queue.shift() as Job;
    this.#busy = true;
    const t0 = now;
    let settled = false;
    // The link's own timeout is the primary one; this guard covers a port that dies mid-request.
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
        this.#consecutiveFailures = 0;
        this.#failureReopens = 0;
        this.#m.ok.inc();
        job.resolve(value);
      } else {
        const e = this.#classify(err, job);
        job.reject(e);
        if (e.kind === "timeout") this.#m.timeouts.inc();
        // A well-formed exception proves the line works; a lost connection is handled where it is seen.
        if (e.kind === "exception") this.#consecutiveFailures = 0;
        else if (e.kind !== "disconnected") this.#countFailure(e.message);
      }
      if (this.#state === "open") this.#pump();
    };
    this.#finishCurrent = finish;
    try {
      job.run(link).then(
        (v) => finish(undefined, v),
        (e: unknown) => finish(e ?? new Error("request failed")),
      );
    } catch (e) {
      finish(e);
    }
  }

  #countFailure(last: string): void {
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures < this.#reopenAfter || this.#state !== "open") return;
    const n = this.#consecutiveFailures;
    this.#consecutiveFailures = 0;
    const quiet = this.#failureReopens++ > 0;
    this.#lostConnection(`${n} consecutive failed requests, reopening (last: ${last})`, quiet);
  }

  #classify(err: unknown, job: Job): ModbusRequestError {
    const where = `unit ${job.unit} on bus ${this.id}, ${job.what}`;
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
    if (err instanceof LinkError) {
      if (err.kind === "exception") {
        this.#m.exception.inc();
        const code = err.exceptionCode ?? 0;
        const name = EXCEPTION_NAMES[code] ?? "unknown exception";
        return new ModbusRequestError("exception", `${where}: exception ${code} (${name})`, code, err);
      }
      this.#m[err.kind].inc();
      const msg = err.kind === "crc" ? "CRC error (noise or wiring on the line?)" : err.message;
      return new ModbusRequestError(err.kind, `${where}: ${msg}`, undefined, err);
    }
    const e = err as { modbusCode?: number; errno?: string; name?: string; message?: string };
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
    const attempt = Symbol("connect");
    this.#attempt = attempt;
    let done = false;
    const limit = Math.max(this.timeoutMs, 1000);
    const timer = this.#clock.setTimeout(() => fail(new Error(`no connection within ${limit} ms`)), limit);
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      this.#clock.clearTimeout(timer);
      this.#lastError = errorMessage(err);
      this.#lostConnection(this.#lastError);
    };
    let link: ModbusLink | null = null;
    openLink({
      config: this.#cfg,
      clock: this.#clock,
      timeoutMs: this.timeoutMs,
      gapMs: this.#gapMs,
      events: {
        // Only the current, open link may report a loss: a late error from an abandoned one is ignored.
        lost: (why) => {
          if (link !== null && this.#link === link && this.#state === "open") this.#lostConnection(why);
        },
      },
    }).then(
      (l) => {
        if (done || this.#state === "stopped" || this.#attempt !== attempt) {
          void l.close();
          return;
        }
        done = true;
        this.#clock.clearTimeout(timer);
        link = l;
        this.#link = l;
        if (this.#lastError) this.#log.info({ bus: this.id }, `Modbus bus ${this.id} (${this.#where()}) reconnected`);
        this.#lastError = "";
        this.#state = "open";
        this.#m.connected.set(1);
        this.#backoffMs = this.#cfg.reconnectMinMs;
        this.#consecutiveFailures = 0;
        this.#lastEnd = this.#clock.monotonic();
        this.#pump();
      },
      (err: unknown) => fail(err),
    );
  }

  #attempt: symbol | null = null;

  #lostConnection(why: string, quiet = false): void {
    if (this.#state === "stopped" || this.#state === "backoff") return;
    const wasOpen = this.#state === "open";
    this.#state = "backoff";
    this.#attempt = null;
    this.#lastError = why;
    this.#m.connected.set(0);
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#cfg.reconnectMaxMs);
    const line = `Modbus bus ${this.id} (${this.#where()}) ${wasOpen ? "lost its connection" : "cannot connect"}: ${why}; retrying in ${Math.round(delay)} ms`;
    if (quiet) this.#log.debug({ bus: this.id, retryInMs: Math.round(delay) }, line);
    else this.#log.warn({ bus: this.id, retryInMs: Math.round(delay) }, line);
    const finish = this.#finishCurrent;
    if (finish) finish(new ModbusRequestError("disconnected", `bus ${this.id} (${this.#where()}): ${why}`));
    this.#failQueue(this.#downError());
    this.#clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    this.#quietWaitSince = 0;
    void this.#closeLink();
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

  async #closeLink(): Promise<void> {
    const l = this.#link;
    this.#link = null;
    this.#attempt = null;
    if (l) await l.close();
  }
}
