// The contract between a bus and the connection under it, in a file of its own so that the
// factory (link.ts) and the transports it picks (rtu.ts, the TCP link) depend on it without
// depending on each other.

import type { ModbusBusConfig } from "../../config/schema.js";
import type { Clock } from "../../core/clock.js";

/** Why one request failed, as the link saw it; the bus adds the unit, bus and request. */
export type LinkFailure = "timeout" | "crc" | "frame" | "exception";

export class LinkError extends Error {
  readonly kind: LinkFailure;
  readonly exceptionCode: number | undefined;
  constructor(kind: LinkFailure, message: string, exceptionCode?: number) {
    super(message);
    this.name = "LinkError";
    this.kind = kind;
    this.exceptionCode = exceptionCode;
  }
}

export interface LinkEvents {
  /** The port or connection is gone (closed by the peer, adapter pulled, socket error). */
  lost(why: string): void;
}

export interface ModbusLink {
  read(unit: number, fc: 1 | 2 | 3 | 4, address: number, count: number): Promise<number[] | boolean[]>;
  writeCoil(unit: number, address: number, on: boolean): Promise<void>;
  /** One register is written with FC6, several with FC16. */
  writeRegisters(unit: number, address: number, regs: readonly number[]): Promise<void>;
  /**
   * Monotonic time after which the line has been quiet long enough to send (the last stray byte
   * plus the silence that ends a frame); 0 when the transport does not need it.
   */
  quietAt(): number;
  close(): Promise<void>;
}

export interface LinkOptions {
  config: ModbusBusConfig;
  clock: Clock;
  timeoutMs: number;
  /** Silence that ends a frame on this line, in ms. */
  gapMs: number;
  events: LinkEvents;
}
