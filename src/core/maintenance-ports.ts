// The seams of run-time maintenance (docs/alarms.md, Maintenance): where it is kept across restarts,
// and what the local API, the CLI and hooks ask of it.

import type { DeviceStatus } from "./types.js";

/** A device put in maintenance through the API, the CLI, the page or a hook. */
export interface MaintenanceRecord {
  deviceId: string;
  /** Epoch ms it began. */
  since: number;
  /** Epoch ms it ends by itself; null: until switched off. */
  until: number | null;
  reason: string;
  /** Who asked: "api", "cli", "page", "hook:<name>"… */
  by: string;
}

/** Where run-time maintenance is kept across restarts (the device_maintenance table). */
export interface MaintenanceStore {
  load(): MaintenanceRecord[];
  put(record: MaintenanceRecord): void;
  remove(deviceId: string): void;
}

/** A device in maintenance as listed: run time (from a request) or config (always on). */
export interface MaintenanceEntry {
  did: string;
  origin: "runtime" | "config";
  since: number | null;
  until: number | null;
  reason: string;
  by: string;
  /** The device's status now (a hook may have kept another status). */
  status: DeviceStatus;
}

export interface MaintenanceRequest {
  /** Epoch ms, or an ISO-8601 string; absent: until switched off. */
  until?: number | string | undefined;
  reason?: string | undefined;
  by: string;
}

export type MaintenanceResult =
  | { ok: true; status: DeviceStatus; entry: MaintenanceEntry | null }
  | {
      ok: false;
      /** unknown-device: no such device; config: maintenance set in the config; invalid: a bad field;
       *  vetoed: a beforeDeviceStatus hook refused (kind says how). */
      refusal: "unknown-device" | "config" | "invalid" | "vetoed";
      field?: "did" | "on" | "until";
      message: string;
      kind?: "veto" | "processing" | "invalid" | "denied";
      hook?: string;
    };

/** Switching maintenance at run time; the change passes beforeDeviceStatus like any status change. */
export interface MaintenanceControl {
  set(deviceId: string, on: boolean, request: MaintenanceRequest): Promise<MaintenanceResult>;
  list(): MaintenanceEntry[];
}
