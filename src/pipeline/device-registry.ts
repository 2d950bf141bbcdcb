// The live state of every device: latest values, last seen, status. Status is derived from three
// inputs (reachability from the sources, open alarms from the alarm service, maintenance from
// config) so that every source of truth changes only its own input and the event fires once.
// Whether a device has an open alarm is not kept here: it is read from the alarm service's
// OpenAlarmView (alarms/open-alarms.ts), which says when it changed.
// Reachability starts unknown: a device is `unknown` until its first poll outcome or message, so
// the first verdict (online or offline) is a change like any other and reaches every listener.
// Device ids come from outside (MQTT topics and payloads): every table keyed by them is a Map, and
// the config metadata is read through own properties only (`constructor` is an ordinary id).

import type { EventBus } from "../core/events.js";
import type { DeviceView, OpenAlarmView } from "../core/ports.js";
import type { DeviceInfo, DeviceState, DeviceStatus, SourceKind } from "../core/types.js";

/** A device as the pipeline writes it: its state and how many facts readings from MQTT added. */
export interface DeviceSlot {
  readonly state: DeviceState;
  /** Facts added to `state.values` by MQTT readings (the per-device bound counts these). */
  mqttValues: number;
}

interface Entry extends DeviceSlot {
  /** null until a source said anything about the device (first reading, poll outcome or silence). */
  reachable: boolean | null;
  maintenance: boolean;
}

export interface DeviceMeta {
  name?: string;
  product?: string;
  areaId?: number | string;
  location?: Record<string, unknown>;
  maintenance?: boolean;
}

export class DeviceRegistry implements DeviceView {
  readonly #entries = new Map<string, Entry>();
  readonly #meta: Readonly<Record<string, DeviceMeta>>;
  readonly #events: EventBus;
  readonly #alarms: OpenAlarmView | undefined;
  #list: DeviceState[] | null = null;
  /** Devices created by MQTT readings (not declared in config): what mqtt.maxDevices bounds. */
  #discovered = 0;

  constructor(opts: { meta?: Readonly<Record<string, DeviceMeta>>; events: EventBus; alarms?: OpenAlarmView }) {
    this.#meta = opts.meta ?? {};
    this.#events = opts.events;
    this.#alarms = opts.alarms;
    // Open alarms are loaded at start, before an MQTT device has reported and become known: a
    // device created later reads its input then, so only known devices need a recompute here.
    opts.alarms?.onChange((id) => {
      const e = this.#entries.get(id);
      if (e !== undefined) this.#recompute(e);
    });
  }

  /** Declares a device known from config (Modbus devices, `devices` metadata). Starts unknown until it reports. */
  declare(info: DeviceInfo, source: SourceKind): DeviceState {
    const existing = this.#entries.get(info.id);
    if (existing) return existing.state;
    return this.#create(info.id, info.product, source, info).state;
  }

  get(id: string): DeviceState | undefined {
    return this.#entries.get(id)?.state;
  }

  list(): readonly DeviceState[] {
    if (this.#list === null) this.#list = [...this.#entries.values()].map((e) => e.state);
    return this.#list;
  }

  /** The state for a device, created on first sight whatever the bounds (callers that know the device). */
  entryFor(id: string, product: string, source: SourceKind): DeviceState {
    const e = this.#entries.get(id);
    if (e !== undefined) return e.state;
    return this.#create(id, product, source, undefined).state;
  }

  /**
   * Hot path: the slot for a reading's device, created on first sight (MQTT discovers devices).
   * null when the device is new, came from MQTT and `maxDiscovered` MQTT devices already exist.
   */
  slotFor(id: string, product: string, source: SourceKind, maxDiscovered: number): DeviceSlot | null {
    const e = this.#entries.get(id);
    if (e !== undefined) return e;
    if (source === "mqtt") {
      if (this.#discovered >= maxDiscovered) return null;
      this.#discovered++;
    }
    return this.#create(id, product, source, undefined);
  }

  /** Number of devices MQTT readings created (declared devices not included). */
  get discovered(): number {
    return this.#discovered;
  }

  /** A reading arrived: the device is reachable. */
  markSeen(state: DeviceState, ts: number): void {
    state.lastSeen = ts;
    if (state.status === "online" || state.status === "alarm") return;
    const e = this.#entries.get(state.id);
    if (e !== undefined && !e.reachable) {
      e.reachable = true;
      this.#recompute(e);
    }
  }

  setReachable(id: string, reachable: boolean): void {
    const e = this.#entries.get(id);
    if (e === undefined || e.reachable === reachable) return;
    e.reachable = reachable;
    this.#recompute(e);
  }

  setMaintenance(id: string, maintenance: boolean): void {
    const e = this.#entries.get(id);
    if (e === undefined || e.maintenance === maintenance) return;
    e.maintenance = maintenance;
    this.#recompute(e);
  }

  #create(id: string, product: string, source: SourceKind, info: DeviceInfo | undefined): Entry {
    const meta = Object.hasOwn(this.#meta, id) ? this.#meta[id] : undefined;
    const state: DeviceState = {
      id,
      product: info?.product ?? meta?.product ?? product,
      status: meta?.maintenance ? "maintenance" : "unknown",
      lastSeen: null,
      values: {},
      source,
    };
    const name = info?.name ?? meta?.name;
    if (name !== undefined) state.name = name;
    const areaId = info?.areaId ?? meta?.areaId;
    if (areaId !== undefined) state.areaId = areaId;
    const location = info?.location ?? meta?.location;
    if (location !== undefined) state.location = location;
    const entry: Entry = { state, mqttValues: 0, reachable: null, maintenance: meta?.maintenance === true };
    this.#entries.set(id, entry);
    this.#list = null;
    return entry;
  }

  #recompute(e: Entry): void {
    const next: DeviceStatus = e.maintenance
      ? "maintenance"
      : e.reachable === null
        ? "unknown"
        : !e.reachable
          ? "offline"
          : this.#alarms?.has(e.state.id)
            ? "alarm"
            : "online";
    const prev = e.state.status;
    if (prev === next) return;
    e.state.status = next;
    this.#events.emit("deviceStatusChanged", snapshot(e.state), prev, next);
  }
}

/** A copy of a device's state that later readings will not mutate (for hooks and events kept past the call). */
export function snapshot(state: DeviceState): DeviceState {
  return { ...state, values: { ...state.values } };
}
