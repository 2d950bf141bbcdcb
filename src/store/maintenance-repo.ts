// The device_maintenance table: run-time maintenance kept across restarts (one row per device;
// maintenance from the config file is never stored here). Implements core's MaintenanceStore.

import type { MaintenanceRecord, MaintenanceStore } from "../core/maintenance-ports.js";
import type { Db } from "./db.js";

interface Row {
  device_id: string;
  since: number;
  until: number | null;
  reason: string;
  by: string;
}

export class MaintenanceRepo implements MaintenanceStore {
  readonly #all;
  readonly #put;
  readonly #del;

  constructor(db: Db) {
    this.#all = db.prepare<[], Row>(
      "SELECT device_id, since, until, reason, by FROM device_maintenance ORDER BY device_id",
    );
    this.#put = db.prepare<[string, number, number | null, string, string]>(
      `INSERT INTO device_maintenance (device_id, since, until, reason, by) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(device_id) DO UPDATE SET since = excluded.since, until = excluded.until,
         reason = excluded.reason, by = excluded.by`,
    );
    this.#del = db.prepare<[string]>("DELETE FROM device_maintenance WHERE device_id = ?");
  }

  load(): MaintenanceRecord[] {
    return this.#all.all().map((r) => ({
      deviceId: r.device_id,
      since: r.since,
      until: r.until,
      reason: r.reason,
      by: r.by,
    }));
  }

  put(r: MaintenanceRecord): void {
    this.#put.run(r.deviceId, r.since, r.until, r.reason, r.by);
  }

  remove(deviceId: string): void {
    this.#del.run(deviceId);
  }
}
