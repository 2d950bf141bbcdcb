// Which devices have an open alarm: the one home of that fact. The alarm service is its only
// writer (from the database at start, then after each commit, never before); the device registry
// reads it for a device's `alarm` status and is told when a device gains its first open alarm or
// loses its last. Operator alarms that name no device (id "") are counted but belong to no device.

import type { Logger } from "../core/log.js";
import type { OpenAlarmView } from "../core/ports.js";

type Listener = (deviceId: string, hasOpenAlarm: boolean) => void;

export class OpenAlarms implements OpenAlarmView {
  readonly #byDevice = new Map<string, number>();
  readonly #listeners: Listener[] = [];
  readonly #log: Logger | undefined;
  #total = 0;

  constructor(log?: Logger) {
    this.#log = log;
  }

  has(deviceId: string): boolean {
    return deviceId !== "" && this.#byDevice.has(deviceId);
  }

  /** Devices with at least one open alarm. */
  devices(): string[] {
    return [...this.#byDevice.keys()].filter((id) => id !== "");
  }

  /** Open alarms, with or without a device. */
  get total(): number {
    return this.#total;
  }

  onChange(listener: Listener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** The database's open alarms (one device id per alarm) replace the counts; their devices are announced. */
  reset(deviceIds: readonly string[]): void {
    this.#byDevice.clear();
    for (const id of deviceIds) this.#byDevice.set(id, (this.#byDevice.get(id) ?? 0) + 1);
    this.#total = deviceIds.length;
    for (const id of this.#byDevice.keys()) if (id !== "") this.#notify(id, true);
  }

  /** A committed create (+1) or resolve (-1) of an alarm of `deviceId`. */
  add(deviceId: string, delta: 1 | -1): void {
    this.#total += delta;
    // A resolve of an alarm not counted (it cannot happen, but must not leave a negative count).
    const n = (this.#byDevice.get(deviceId) ?? (delta < 0 ? 1 : 0)) + delta;
    if (n <= 0) this.#byDevice.delete(deviceId);
    else this.#byDevice.set(deviceId, n);
    if (deviceId === "") return;
    if (delta > 0 && n === 1) this.#notify(deviceId, true);
    else if (delta < 0 && n <= 0) this.#notify(deviceId, false);
  }

  #notify(deviceId: string, has: boolean): void {
    for (const l of this.#listeners) {
      try {
        l(deviceId, has);
      } catch (err) {
        this.#log?.error({ err, deviceId }, "open-alarm listener failed");
      }
    }
  }
}
