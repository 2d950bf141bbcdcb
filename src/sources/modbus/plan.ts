// Request planning: merges a device's points into the fewest reads the protocol allows, per table
// (contiguous or within maxGap, at most 125 registers / 2000 bits per request). Computed once per
// config; the poller only walks the plan. Greedy merging over address-sorted points is optimal here.

import { DEFAULTS, resolveModbusDevice } from "../../config/defaults.js";
import type { Config, ModbusDeviceConfig, ModbusPointConfig } from "../../config/schema.js";
import { isBitTable, type PointTable, pointWidth } from "./decode.js";

export const MAX_REGISTERS = 125;
export const MAX_BITS = 2000;

export interface PlannedPoint {
  point: ModbusPointConfig;
  /** Offset of the point's first register/bit within the read. */
  offset: number;
  width: number;
}

export interface PlannedRead {
  table: PointTable;
  /** Modbus function code: 1 coils, 2 discrete inputs, 3 holding, 4 input registers. */
  fc: 1 | 2 | 3 | 4;
  address: number;
  count: number;
  points: PlannedPoint[];
}

const FC: Record<PointTable, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };
const TABLES: readonly PointTable[] = ["coil", "discrete", "holding", "input"];

/** Builds one read covering exactly these points (used by planning and by splitting). */
export function readFor(table: PointTable, points: readonly ModbusPointConfig[]): PlannedRead {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const p of points) {
    lo = Math.min(lo, p.address);
    hi = Math.max(hi, p.address + pointWidth(p));
  }
  return {
    table,
    fc: FC[table],
    address: lo,
    count: hi - lo,
    points: points.map((p) => ({ point: p, offset: p.address - lo, width: pointWidth(p) })),
  };
}

/** `maxGap`: the device's, or its default when the device config is not resolved (validate, tools). */
export function planDevice(device: ModbusDeviceConfig, maxGap = device.maxGap ?? DEFAULTS.modbusMaxGap): PlannedRead[] {
  return planPoints(device.points, maxGap);
}

/** Merges points (any tables) into reads; used for the device plan and when a read must be split. */
export function planPoints(points: readonly ModbusPointConfig[], maxGap: number): PlannedRead[] {
  const reads: PlannedRead[] = [];
  for (const table of TABLES) {
    const pts = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
    if (pts.length === 0) continue;
    const limit = isBitTable(table) ? MAX_BITS : MAX_REGISTERS;
    let group: ModbusPointConfig[] = [];
    let start = 0;
    let end = 0;
    for (const p of pts) {
      const pEnd = p.address + pointWidth(p);
      if (group.length > 0 && p.address - end <= maxGap && Math.max(end, pEnd) - start <= limit) {
        group.push(p);
        end = Math.max(end, pEnd);
        continue;
      }
      if (group.length > 0) reads.push(readFor(table, group));
      group = [p];
      start = p.address;
      end = pEnd;
    }
    reads.push(readFor(table, group));
  }
  return reads;
}

/** The request plan of every Modbus device, for `edge-agent validate --plan`. */
export function formatPlan(config: Config): string {
  const devices = config.modbus?.devices ?? [];
  if (devices.length === 0) return "Modbus request plan: no Modbus devices configured.";
  const lines: string[] = ["Modbus request plan (one poll of each device):"];
  let total = 0;
  let points = 0;
  for (const d of devices.map(resolveModbusDevice)) {
    const plan = planDevice(d, d.maxGap);
    total += plan.length;
    points += d.points.length;
    lines.push(
      `  ${d.id} (bus ${d.bus}, unit ${d.unitId}, every ${d.intervalMs} ms, max gap ${d.maxGap}): ` +
        `${plan.length} request${plan.length === 1 ? "" : "s"} for ${d.points.length} point${d.points.length === 1 ? "" : "s"}`,
    );
    for (const r of plan) {
      const unit = isBitTable(r.table) ? "bit" : "register";
      lines.push(
        `    FC${r.fc} ${r.table.padEnd(8)} ${String(r.address).padStart(5)}..${String(r.address + r.count - 1).padEnd(5)} ` +
          `(${r.count} ${unit}${r.count === 1 ? "" : "s"}): ${r.points.map((p) => p.point.name).join(", ")}`,
      );
    }
  }
  lines.push(`  total: ${total} requests per round for ${points} points (one per point would be ${points})`);
  return lines.join("\n");
}
