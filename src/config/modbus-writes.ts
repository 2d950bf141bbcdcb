// What makes a Modbus write acceptable, decided once for the live write (sources/modbus/source.ts)
// and for the files that ask for one ahead of time (task files): the device and the point exist,
// the point's table can be written, the point opted in ("writable": true), and the value fits the
// point's type. The reasons read as the end of "cannot write <device>.<point>: …".

import type { ModbusPointConfig } from "./schema.js";

export interface WritableDevice {
  id: string;
  points: readonly ModbusPointConfig[];
}

export type WriteTarget =
  | { ok: true; point: ModbusPointConfig }
  | {
      ok: false;
      /** What is wrong: the device, the point, or the point refuses writes. */
      field: "device" | "point" | "writable";
      reason: string;
      /** The device ids (field "device") or point names (field "point") there are. */
      known: string[];
    };

/** Finds the point a write to `deviceId`.`pointName` reaches, or why it cannot. */
export function modbusWriteTarget(devices: Iterable<WritableDevice>, deviceId: string, pointName: string): WriteTarget {
  let device: WritableDevice | undefined;
  const ids: string[] = [];
  for (const d of devices) {
    ids.push(d.id);
    if (d.id === deviceId) device = d;
  }
  if (device === undefined)
    return {
      ok: false,
      field: "device",
      reason: `no such Modbus device (known: ${ids.join(", ") || "none"})`,
      known: ids,
    };
  const point = device.points.find((x) => x.name === pointName);
  const names = device.points.map((x) => x.name);
  if (point === undefined)
    return { ok: false, field: "point", reason: `no such point (points: ${names.join(", ")})`, known: names };
  if (point.table === "discrete" || point.table === "input")
    return { ok: false, field: "writable", reason: `${point.table} is a read-only table`, known: names };
  // Writing is opt-in per point: nothing may reach a register nobody marked as safe to write.
  if (point.writable !== true)
    return {
      ok: false,
      field: "writable",
      reason:
        `point "${pointName}" of Modbus device "${deviceId}" is not writable ` +
        `(writing is opt-in: add "writable": true to that point in modbus.devices to allow it)`,
      known: names,
    };
  return { ok: true, point };
}

const INTEGER_RANGE: Partial<Record<ModbusPointConfig["type"], readonly [bigint, bigint]>> = {
  uint16: [0n, 0xffffn],
  int16: [-0x8000n, 0x7fffn],
  uint32: [0n, 0xffffffffn],
  int32: [-0x80000000n, 0x7fffffffn],
  uint64: [0n, 2n ** 64n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Whether a value is accepted for a bit (a coil, or a bool bit of a holding register). */
export function boolValue(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === "1" || value === "true" || value === "on") return true;
  if (value === 0 || value === "0" || value === "false" || value === "off") return false;
  return null;
}

function unscale(p: ModbusPointConfig, v: number): number {
  return (v - (p.offset ?? 0)) / (p.scale ?? 1);
}

/**
 * Why `value` cannot be written to `point` (after scale and offset), or null when it can. The
 * encoders of the live write refuse exactly these values (a test holds them to it).
 */
export function writeValueProblem(point: ModbusPointConfig, value: unknown): string | null {
  if (typeof value !== "number" && typeof value !== "boolean" && typeof value !== "string")
    return `${value === null ? "null" : Array.isArray(value) ? "a list" : typeof value} is not a value a point takes`;
  if (point.table === "coil" || point.type === "bool")
    return boolValue(value) === null ? `${String(value)} is not a boolean` : null;
  if (point.type === "string") {
    if (typeof value !== "string") return "a string point takes a string";
    const max = (point.length ?? 1) * 2;
    return Buffer.byteLength(value, "utf8") > max ? `"${value}" is longer than ${max} bytes (UTF-8)` : null;
  }
  if (point.type === "float32" || point.type === "float64") {
    return Number.isFinite(Number(value)) ? null : `${String(value)} is not a finite number`;
  }
  const range = INTEGER_RANGE[point.type];
  if (range === undefined) return null;
  let raw: bigint;
  if (typeof value === "string") {
    if (!/^-?\d+$/.test(value.trim())) return `"${value}" is not an integer`;
    raw =
      (point.scale ?? 1) !== 1 || (point.offset ?? 0) !== 0
        ? BigInt(Math.round(unscale(point, Number(value))))
        : BigInt(value.trim());
  } else if (typeof value === "boolean") {
    raw = value ? 1n : 0n;
  } else {
    if (!Number.isFinite(value)) return `${value} is not a finite number`;
    const n = Math.round(unscale(point, value));
    if (!Number.isFinite(n)) return `${value} is out of range for ${point.type}`;
    raw = BigInt(n);
  }
  return raw < range[0] || raw > range[1] ? `${String(value)} is out of range for ${point.type}` : null;
}
