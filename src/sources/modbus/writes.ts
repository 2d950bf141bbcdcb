// The Modbus writer that hooks hold (ctx.modbus). It exists before the Modbus source: hooks are
// built before the parts whose alarms they intercept, and the source comes after those (it feeds
// the pipeline). The source attaches to it while it polls; a write at any other time (the agent
// starting or stopping, or a site without Modbus devices) fails with a message saying why.

import { AgentError } from "../../core/errors.js";
import type { ModbusWriter } from "../../core/ports.js";
import type { MetricValue } from "../../core/types.js";

export class ModbusWrites implements ModbusWriter {
  readonly #configured: boolean;
  #target: ModbusWriter | null = null;

  /** `configured`: whether the config has Modbus devices (only for the message of a refused write). */
  constructor(opts: { configured: boolean }) {
    this.#configured = opts.configured;
  }

  /** Routes writes to `target` until the returned function is called. */
  attach(target: ModbusWriter): () => void {
    this.#target = target;
    return () => {
      if (this.#target === target) this.#target = null;
    };
  }

  write(deviceId: string, point: string, value: MetricValue): Promise<void> {
    if (this.#target) return this.#target.write(deviceId, point, value);
    const why = this.#configured
      ? "Modbus polling is not running (the agent is starting or stopping); try again once it runs"
      : "no Modbus devices are configured (modbus.devices)";
    return Promise.reject(new AgentError("EA_MODBUS_WRITE", `cannot write ${deviceId}.${point}: ${why}`));
  }
}
