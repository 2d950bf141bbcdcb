// The 60-point, 3-table device of the plan test and the request-count benchmark.
import type { ModbusDeviceConfig, ModbusPointConfig } from "../../src/config/schema.js";

/**
 * holding: 20 float32 at 0..38 and 10 uint16 at 45..63 (gaps ≤ 10) → 1 read;
 * input: 10 uint32 at 0..37 → 1 read, 10 float64 at 1000..1129 (span 130 > 125) → 2 reads;
 * coil: 10 coils 5 apart → 1 read. Minimal: 5 requests for 60 points.
 */
export function sixtyPointDevice(bus: string, unitId = 1): ModbusDeviceConfig {
  const points: ModbusPointConfig[] = [];
  for (let i = 0; i < 20; i++) points.push({ name: `h_f${i}`, table: "holding", address: i * 2, type: "float32" });
  for (let i = 0; i < 10; i++) points.push({ name: `h_u${i}`, table: "holding", address: 45 + i * 2, type: "uint16" });
  for (let i = 0; i < 10; i++) points.push({ name: `i_u${i}`, table: "input", address: i * 4, type: "uint32" });
  for (let i = 0; i < 10; i++)
    points.push({ name: `i_d${i}`, table: "input", address: 1000 + i * 14, type: "float64" });
  for (let i = 0; i < 10; i++) points.push({ name: `c${i}`, table: "coil", address: i * 5, type: "bool" });
  return { id: "dev-60", bus, unitId, product: "meter", intervalMs: 60_000, points };
}

export const SIXTY_POINT_MINIMAL_REQUESTS = 5;
