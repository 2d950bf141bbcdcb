// A simulated Modbus power meter for demos, tests and benchmarks. Values are computed from the clock
// when a request arrives (no timers): ~230 V with noise and, in every 40 s cycle, a swell that starts
// 8 s in (247.5 V for 3 s, then 253 V for 9 s) so the sample voltage rule raises, escalates and resolves.

import { SerialPort } from "serialport";
import { type Clock, systemClock } from "../../core/clock.js";
import { AgentError, errorMessage, listenErrorCode } from "../../core/errors.js";
import { ModbusSlave, ModbusTcpSlave, serveRtu } from "./slave.js";

export const SIM_REGISTER_MAP = `Simulated power meter register map (unit id %UNIT%):
  holding 0-1   voltage      float32 ABCD  V    ~230, swell to ~247.5 then ~253 for 12 s of every 40 s
  holding 2-3   current      float32 ABCD  A    ~40 (0 while the breaker is open)
  holding 4-5   power_kw     float32 ABCD  kW   voltage x current x 0.95 / 1000
  input   10-11 energy_kwh   uint32  CDAB  x0.01 kWh, increasing with power
  coil    0     breaker_on   bool          writable: false opens the breaker
  Addresses 0-1999 of every table are readable (unmapped ones read 0); higher ones answer
  exception 2 (illegal data address).`;

const CYCLE_MS = 40_000;

export interface SimulatedMeterOptions {
  port: number;
  host?: string;
  unitId?: number;
  clock?: Clock;
}

export class SimulatedMeter {
  readonly slave: ModbusSlave;
  readonly #opts: SimulatedMeterOptions;
  readonly #clock: Clock;
  #tcp: ModbusTcpSlave | null = null;
  #serial: SerialPort | null = null;
  #detach: (() => void) | null = null;
  #t0 = 0;
  #lastMono = 0;
  #energyWh = 12_345_678; // 12 345.678 kWh at start
  #noise = 0x2545f491;

  constructor(opts: SimulatedMeterOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    const unit = opts.unitId ?? 1;
    this.slave = new ModbusSlave({
      units: [unit],
      limit: { coil: 2000, discrete: 2000, holding: 2000, input: 2000 },
      onRequest: () => {
        this.#update();
        return undefined;
      },
    });
    this.slave.memory.coils[0] = 1;
  }

  /** The TCP port actually bound (useful with port 0). */
  get port(): number {
    return this.#tcp?.port ?? this.#opts.port;
  }

  async start(): Promise<void> {
    this.#t0 = this.#clock.monotonic();
    this.#lastMono = this.#t0;
    this.#update();
    const tcp = new ModbusTcpSlave(this.slave);
    const host = this.#opts.host ?? "127.0.0.1";
    try {
      await tcp.listen(this.#opts.port, host);
    } catch (err) {
      const code = listenErrorCode(err);
      const why =
        code === "EA_PORT_IN_USE"
          ? `port ${this.#opts.port} is already in use (another simulator or Modbus server?); choose another port`
          : errorMessage(err);
      throw new AgentError(code, `simulated meter cannot listen on ${host}:${this.#opts.port}: ${why}`, { cause: err });
    }
    this.#tcp = tcp;
  }

  /** Also serves RTU on a serial device (e.g. one end of a socat pty pair). */
  async startRtu(path: string, baudRate = 9600): Promise<void> {
    const sp = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => sp.open((err) => (err ? reject(err) : resolve())));
    this.#serial = sp;
    this.#detach = serveRtu(this.slave, sp);
  }

  async stop(): Promise<void> {
    this.#detach?.();
    this.#detach = null;
    const sp = this.#serial;
    this.#serial = null;
    if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
    const tcp = this.#tcp;
    this.#tcp = null;
    await tcp?.close();
  }

  #rand(): number {
    // xorshift: deterministic noise, no allocation
    let x = this.#noise;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#noise = x >>> 0;
    return this.#noise / 0xffffffff - 0.5;
  }

  /** Voltage at `elapsed` ms after start (exported shape for docs and tests). */
  static voltageAt(elapsedMs: number): number {
    const t = elapsedMs % CYCLE_MS;
    if (t >= 8000 && t < 11_000) return 247.5;
    if (t >= 11_000 && t < 20_000) return 253;
    return 230;
  }

  #update(): void {
    const now = this.#clock.monotonic();
    const m = this.slave.memory;
    const breaker = m.coils[0] === 1;
    const voltage = SimulatedMeter.voltageAt(now - this.#t0) + this.#rand() * 1.0;
    const current = breaker ? 40 + this.#rand() * 2 : 0;
    const powerKw = (voltage * current * 0.95) / 1000;
    this.#energyWh += (powerKw * (now - this.#lastMono)) / 3600; // kW × ms / 3600 = Wh
    this.#lastMono = now;
    const dv = new DataView(new ArrayBuffer(4));
    const f32 = (addr: number, v: number) => {
      dv.setFloat32(0, v);
      m.holding[addr] = dv.getUint16(0);
      m.holding[addr + 1] = dv.getUint16(2);
    };
    f32(0, voltage);
    f32(2, current);
    f32(4, powerKw);
    const raw = Math.round(this.#energyWh / 10) >>> 0; // ×0.01 kWh
    m.input[10] = raw & 0xffff; // CDAB: low word first
    m.input[11] = raw >>> 16;
  }
}
