// What /status and the status page's live updates show of the devices: one page of the device list
// and, per device, at most a fixed number of values, so the answer stays small whatever MQTT
// devices send (the device state itself is bounded by mqtt.maxDevices and mqtt.maxValuesPerDevice).

import { setOwn } from "../core/json-value.js";
import type { DeviceState, FactValue } from "../core/types.js";

/** Devices on one /status page unless `devicesLimit` says otherwise. */
export const STATUS_DEVICES_DEFAULT = 200;
/** Largest `devicesLimit` accepted. */
export const STATUS_DEVICES_MAX = 1000;
/** Values shown per device; the rest are counted in `valuesTruncated`. */
export const STATUS_VALUES_PER_DEVICE = 100;

/** A device as /status shows it: its state, with `valuesTruncated` = values left out when there are too many. */
export type DeviceSummary = DeviceState & { valuesTruncated?: number };

export interface DevicePage {
  devices: DeviceSummary[];
  devicesTotal: number;
  devicesOffset: number;
  devicesLimit: number;
}

/** The device itself when it has few enough values (the common case), else a copy with the first ones. */
export function summarizeDevice(d: DeviceState, maxValues = STATUS_VALUES_PER_DEVICE): DeviceSummary {
  let n = 0;
  for (const k in d.values) if (Object.hasOwn(d.values, k) && ++n > maxValues) break;
  if (n <= maxValues) return d;
  const values: Record<string, FactValue> = {};
  let kept = 0;
  let total = 0;
  for (const k in d.values) {
    if (!Object.hasOwn(d.values, k)) continue;
    total++;
    if (kept < maxValues) {
      setOwn(values, k, d.values[k]);
      kept++;
    }
  }
  return { ...d, values, valuesTruncated: total - kept };
}

/** Devices `offset` … `offset + limit - 1` in the registry's order (declared first, then as discovered). */
export function devicePage(list: readonly DeviceState[], offset: number, limit: number): DevicePage {
  const devices: DeviceSummary[] = [];
  const end = Math.min(list.length, offset + limit);
  for (let i = offset; i < end; i++) devices.push(summarizeDevice(list[i] as DeviceState));
  return { devices, devicesTotal: list.length, devicesOffset: offset, devicesLimit: limit };
}
