// The connection under a bus: one request at a time (the bus queues), each answer checked against
// the request it belongs to. TCP (MBAP, with transaction ids) goes through modbus-serial; RTU
// framing — on a serial port or through a device server — uses our own framer in rtu.ts, because
// modbus-serial's RTU ports keep stale bytes across requests and can return the previous answer.

import modbusSerial from "modbus-serial";
import { DEFAULTS } from "../../config/defaults.js";
import { errorMessage } from "../../core/errors.js";
import type { LinkOptions, ModbusLink } from "./link-types.js";
import { openRtuOverTcp, openSerial } from "./rtu.js";

type Client = InstanceType<typeof modbusSerial.default>;
// At run time the CommonJS module object is the client class itself.
const ModbusRTU = modbusSerial as unknown as new () => Client;

export function openLink(opts: LinkOptions): Promise<ModbusLink> {
  const t = opts.config.transport;
  if (t === "rtu") return openSerial(opts);
  if (t === "rtu-over-tcp") return openRtuOverTcp(opts);
  return openTcp(opts);
}

// ---- Modbus TCP through modbus-serial ---------------------------------------------------------

async function openTcp(opts: LinkOptions): Promise<ModbusLink> {
  const client = new ModbusRTU();
  // Registered before connecting: an "error" emitted with no listener would crash the process.
  let open = false;
  client.on("error", (err: unknown) => {
    if (open) opts.events.lost(errorMessage(err));
  });
  client.setTimeout(opts.timeoutMs);
  const link = new TcpLink(client);
  try {
    await client.connectTCP(opts.config.host ?? "127.0.0.1", { port: opts.config.port ?? DEFAULTS.modbusPort });
  } catch (err) {
    await link.close();
    throw err;
  }
  open = true;
  client.on("close", () => {
    if (open) opts.events.lost("connection closed by peer");
  });
  return link;
}

class TcpLink implements ModbusLink {
  readonly #c: Client;
  #closed = false;

  constructor(client: Client) {
    this.#c = client;
  }

  async read(unit: number, fc: 1 | 2 | 3 | 4, address: number, count: number): Promise<number[] | boolean[]> {
    const c = this.#c;
    c.setID(unit);
    const r =
      fc === 1
        ? await c.readCoils(address, count)
        : fc === 2
          ? await c.readDiscreteInputs(address, count)
          : fc === 3
            ? await c.readHoldingRegisters(address, count)
            : await c.readInputRegisters(address, count);
    return r.data;
  }

  async writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    this.#c.setID(unit);
    await this.#c.writeCoil(address, on);
  }

  async writeRegisters(unit: number, address: number, regs: readonly number[]): Promise<void> {
    this.#c.setID(unit);
    if (regs.length === 1) await this.#c.writeRegister(address, regs[0] as number);
    else await this.#c.writeRegisters(address, [...regs]);
  }

  quietAt(): number {
    return 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const internals = this.#c as unknown as {
      removeAllListeners(e: string): void;
      _cancelPendingTransactions?(): void;
      destroy?(cb: () => void): void;
    };
    internals.removeAllListeners("close");
    // close() alone leaves modbus-serial's per-request timers running (they would keep the process up).
    internals._cancelPendingTransactions?.();
    await new Promise<void>((resolve) => {
      // A bound on waiting for the OS, not a schedule: real time, cleared as soon as the socket closes.
      const bound = setTimeout(resolve, 1000);
      const done = () => {
        clearTimeout(bound);
        resolve();
      };
      try {
        // Destroyed, not ended: end() would wait for a peer that may never answer.
        if (internals.destroy) internals.destroy(done);
        else this.#c.close(done);
      } catch {
        done();
      }
    });
  }
}
