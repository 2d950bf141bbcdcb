// Maintenance switched at run time (docs/alarms.md, Maintenance): requests from the local API, the
// CLI, the status page and hooks, checked here, passed to the device registry (which offers the
// status change to a beforeDeviceStatus hook), kept in a MaintenanceStore so that a restart keeps
// them, and ended by themselves at `until` (a timer on the injected clock, re-armed at least every
// minute so that a wall-clock step is noticed; expired ones are also ended at start).
// Maintenance from the config file is not handled here: always on, never switched off at run time.

import type { Clock, TimerHandle } from "../core/clock.js";
import { errorMessage } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type {
  MaintenanceControl,
  MaintenanceEntry,
  MaintenanceRecord,
  MaintenanceRequest,
  MaintenanceResult,
  MaintenanceStore,
} from "../core/maintenance-ports.js";
import type { DeviceRegistry } from "./device-registry.js";

/** Longest wait between two looks at `until` (a wall-clock step is noticed within this). */
const CHECK_EVERY_MS = 60_000;

export interface MaintenanceOptions {
  devices: DeviceRegistry;
  /** Where run-time maintenance survives a restart; none: it lasts until the agent stops. */
  store?: MaintenanceStore | undefined;
  clock: Clock;
  log: Logger;
}

/** `until` as epoch ms: a number of ms, or an ISO-8601 date-time; a string saying what is wrong otherwise. */
export function parseUntil(raw: unknown): number | string {
  if (typeof raw === "number") {
    return Number.isSafeInteger(raw) && raw > 0 ? raw : `expected epoch milliseconds, got ${raw}`;
  }
  if (typeof raw === "string") {
    const s = raw.trim();
    if (/^\d+$/.test(s)) return parseUntil(Number(s));
    // A date alone ("2026-12-01") would be read as UTC midnight: a time is required to avoid surprises.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s)) {
      return `expected epoch milliseconds or an ISO-8601 date-time such as 2026-12-01T18:00:00+01:00, got "${raw}"`;
    }
    const ms = Date.parse(s);
    return Number.isFinite(ms) ? ms : `not a valid ISO-8601 date-time: "${raw}"`;
  }
  return `expected epoch milliseconds or an ISO-8601 string, got ${raw === null ? "null" : typeof raw}`;
}

export class Maintenance implements MaintenanceControl {
  readonly #devices: DeviceRegistry;
  readonly #store: MaintenanceStore | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #records = new Map<string, MaintenanceRecord>();
  #timer: TimerHandle | undefined;
  #running = false;

  constructor(opts: MaintenanceOptions) {
    this.#devices = opts.devices;
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#log = opts.log;
  }

  /** Puts back what was on before the restart; what ended meanwhile is removed. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const now = this.#clock.now();
    for (const r of this.#store?.load() ?? []) {
      if (r.until !== null && r.until <= now) {
        this.#forget(r.deviceId);
        this.#log.info(
          { deviceId: r.deviceId, until: new Date(r.until).toISOString() },
          `maintenance of ${r.deviceId} ended while the agent was stopped`,
        );
        continue;
      }
      this.#records.set(r.deviceId, r);
      this.#devices.restoreMaintenance(r.deviceId, onReason(r.reason));
    }
    if (this.#records.size > 0) this.#log.info({ devices: [...this.#records.keys()] }, "maintenance resumed");
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  list(): MaintenanceEntry[] {
    const out: MaintenanceEntry[] = [];
    for (const d of this.#devices.list()) {
      if (this.#devices.maintenanceOf(d.id) !== "config") continue;
      out.push({
        did: d.id,
        origin: "config",
        since: null,
        until: null,
        reason: "set in the config file",
        by: "config",
        status: d.status,
      });
    }
    for (const r of this.#records.values()) {
      if (this.#devices.maintenanceOf(r.deviceId) === "config") continue;
      out.push(this.#entry(r));
    }
    return out.sort((a, b) => (a.did < b.did ? -1 : a.did > b.did ? 1 : 0));
  }

  async set(deviceId: string, on: boolean, req: MaintenanceRequest): Promise<MaintenanceResult> {
    const known = this.#devices.get(deviceId) !== undefined || this.#records.has(deviceId);
    if (!known) {
      return {
        ok: false,
        refusal: "unknown-device",
        field: "did",
        message: `no device with id "${deviceId}" (see GET /status or edge-agent maintenance for the devices the agent knows)`,
      };
    }
    const origin = this.#devices.maintenanceOf(deviceId);
    if (origin === "config") {
      if (!on) {
        return {
          ok: false,
          refusal: "config",
          field: "on",
          message:
            `device "${deviceId}" is in maintenance by the config file (devices.${deviceId}.maintenance: true) ` +
            "and cannot be switched off at run time: remove it from the config file and restart the agent",
        };
      }
      return { ok: true, status: this.#status(deviceId), entry: this.list().find((e) => e.did === deviceId) ?? null };
    }
    if (!on) return this.#switchOff(deviceId, "maintenance off");
    let until: number | null = null;
    if (req.until !== undefined) {
      const parsed = parseUntil(req.until);
      if (typeof parsed === "string") return invalidUntil(parsed);
      const now = this.#clock.now();
      if (parsed <= now) {
        return invalidUntil(
          `${new Date(parsed).toISOString()} is in the past (now is ${new Date(now).toISOString()}): give a later time`,
        );
      }
      until = parsed;
    }
    const reason = (req.reason ?? "").trim();
    const outcome = await this.#devices.requestMaintenance(deviceId, true, onReason(reason));
    if (outcome === undefined) {
      return { ok: false, refusal: "unknown-device", field: "did", message: `no device with id "${deviceId}"` };
    }
    if (!outcome.applied) return vetoed(outcome);
    const prev = this.#records.get(deviceId);
    const record: MaintenanceRecord = {
      deviceId,
      since: prev?.since ?? this.#clock.now(),
      until,
      reason,
      by: req.by,
    };
    this.#records.set(deviceId, record);
    this.#keep(record);
    this.#log.info(
      { deviceId, until: until === null ? null : new Date(until).toISOString(), reason, by: req.by },
      `maintenance of ${deviceId} on${reason ? `: ${reason}` : ""}`,
    );
    this.#schedule();
    return { ok: true, status: outcome.status, entry: this.#entry(record) };
  }

  async #switchOff(deviceId: string, reason: string): Promise<MaintenanceResult> {
    const outcome = await this.#devices.requestMaintenance(deviceId, false, reason);
    if (outcome !== undefined && !outcome.applied) return vetoed(outcome);
    if (this.#records.delete(deviceId)) {
      this.#forget(deviceId);
      this.#log.info({ deviceId, reason }, `maintenance of ${deviceId} off`);
    }
    this.#schedule();
    return { ok: true, status: outcome?.status ?? this.#status(deviceId), entry: null };
  }

  #status(deviceId: string) {
    return this.#devices.get(deviceId)?.status ?? "unknown";
  }

  #entry(r: MaintenanceRecord): MaintenanceEntry {
    return {
      did: r.deviceId,
      origin: "runtime",
      since: r.since,
      until: r.until,
      reason: r.reason,
      by: r.by,
      status: this.#status(r.deviceId),
    };
  }

  #keep(r: MaintenanceRecord): void {
    try {
      this.#store?.put(r);
    } catch (err) {
      this.#log.error(
        { err, deviceId: r.deviceId },
        `maintenance of ${r.deviceId} could not be saved (${errorMessage(err)}): it is on, but a restart will end it`,
      );
    }
  }

  #forget(deviceId: string): void {
    try {
      this.#store?.remove(deviceId);
    } catch (err) {
      this.#log.error(
        { err, deviceId },
        `maintenance of ${deviceId} could not be removed from the database (${errorMessage(err)}): a restart may resume it`,
      );
    }
  }

  #schedule(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    let next = Number.POSITIVE_INFINITY;
    for (const r of this.#records.values()) if (r.until !== null && r.until < next) next = r.until;
    if (next === Number.POSITIVE_INFINITY) return;
    const wait = Math.min(Math.max(0, next - this.#clock.now()), CHECK_EVERY_MS);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#expire();
    }, wait);
  }

  async #expire(): Promise<void> {
    const now = this.#clock.now();
    const due = [...this.#records.values()].filter((r) => r.until !== null && r.until <= now);
    for (const r of due) {
      // Switched off or changed while an earlier one was being ended.
      if (this.#records.get(r.deviceId) !== r) continue;
      const res = await this.#switchOff(r.deviceId, "maintenance off: until reached");
      if (!res.ok && this.#records.get(r.deviceId) === r) {
        // A hook kept the device in maintenance: it stays on, without an end (no retry every minute).
        r.until = null;
        this.#keep(r);
        this.#log.warn(
          { deviceId: r.deviceId, refusal: res.message },
          `maintenance of ${r.deviceId} reached its end but a hook kept it on: ${res.message}`,
        );
      }
    }
    this.#schedule();
  }
}

function onReason(reason: string): string {
  return reason ? `maintenance on: ${reason}` : "maintenance on";
}

function invalidUntil(why: string): MaintenanceResult {
  return { ok: false, refusal: "invalid", field: "until", message: why };
}

function vetoed(o: {
  reason: string;
  hook: string;
  kind: "veto" | "processing" | "invalid" | "denied";
}): MaintenanceResult {
  return {
    ok: false,
    refusal: "vetoed",
    kind: o.kind,
    hook: o.hook,
    message: o.reason || `refused by hook ${o.hook}`,
  };
}
