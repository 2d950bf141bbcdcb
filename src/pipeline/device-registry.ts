// The live state of every device: latest values, last seen, status. Status is derived from three
// inputs (reachability from the sources, open alarms from the alarm service, maintenance from
// config or set at run time) so that every source of truth changes only its own input and the
// event fires once.
// Whether a device has an open alarm is not kept here: it is read from the alarm service's
// OpenAlarmView (alarms/open-alarms.ts), which says when it changed.
// Reachability starts unknown: a device is `unknown` until its first poll outcome or message, so
// the first verdict (online or offline) is a change like any other and reaches every listener.
// Device ids come from outside (MQTT topics and payloads): every table keyed by them is a Map, and
// the config metadata is read through own properties only (`constructor` is an ordinary id).
// A beforeDeviceStatus hook (DeviceStatusInterceptor) may change or veto a status change: while
// one is active, a computed change is offered to it and applied when it answers, one change at a
// time per device, in order. Inputs are recorded at once (a reading never waits); only the status
// waits. Without an active interceptor a change is applied synchronously, as it is computed.

import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { DeviceStatusInterceptor, DeviceStatusVerdict, DeviceView, OpenAlarmView } from "../core/ports.js";
import type { DeviceInfo, DeviceState, DeviceStatus, SourceKind } from "../core/types.js";

/** A device as the pipeline writes it: its state and how many facts readings from MQTT added. */
export interface DeviceSlot {
  readonly state: DeviceState;
  /** Facts added to `state.values` by MQTT readings (the per-device bound counts these). */
  mqttValues: number;
}

/** What became of a requested change: applied (the status now), or vetoed by a hook (status unchanged). */
export type StatusOutcome =
  | { applied: true; status: DeviceStatus; reason: string }
  | {
      applied: false;
      status: DeviceStatus;
      reason: string;
      hook: string;
      kind: "veto" | "processing" | "invalid" | "denied";
    };

/** A status change waiting for the interceptor: a recomputation, or a maintenance request. */
interface Offer {
  /** Why, when the caller said; else worded from the statuses when it is offered. */
  reason: string | undefined;
  /** A maintenance request: the run-time flag it sets once applied; null for a recomputation. */
  maintenance: boolean | null;
  started: boolean;
  done: ((o: StatusOutcome) => void) | null;
}

interface Entry extends DeviceSlot {
  /** null until a source said anything about the device (first reading, poll outcome or silence). */
  reachable: boolean | null;
  /** Maintenance from config: always on, not switched at run time. */
  configMaintenance: boolean;
  /** Changes offered to the interceptor, the first one in flight; null when none is waiting. */
  offers: Offer[] | null;
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
  readonly #log: Logger | undefined;
  /** Devices in maintenance set at run time (also ids not known yet: restored before they report). */
  readonly #runtime = new Set<string>();
  #interceptor: DeviceStatusInterceptor | null = null;
  #list: DeviceState[] | null = null;
  /** Devices created by MQTT readings (not declared in config): what mqtt.maxDevices bounds. */
  #discovered = 0;
  #changeReason: string | undefined;

  constructor(opts: {
    meta?: Readonly<Record<string, DeviceMeta>>;
    events: EventBus;
    alarms?: OpenAlarmView;
    /** For an interceptor that failed (its change is applied unchanged). */
    log?: Logger;
  }) {
    this.#meta = opts.meta ?? {};
    this.#events = opts.events;
    this.#alarms = opts.alarms;
    this.#log = opts.log;
    // Open alarms are loaded at start, before an MQTT device has reported and become known: a
    // device created later reads its input then, so only known devices need a recompute here.
    opts.alarms?.onChange((id) => {
      const e = this.#entries.get(id);
      if (e !== undefined) this.#recompute(e, undefined);
    });
  }

  /** Status changes are offered to `port` while it is active (null: applied as computed). */
  interceptStatus(port: DeviceStatusInterceptor | null): void {
    this.#interceptor = port;
  }

  /** Why the status change being announced happened (read by deviceStatusChanged listeners during the event). */
  get changeReason(): string | undefined {
    return this.#changeReason;
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
      this.#recompute(e, "reading received");
    }
  }

  setReachable(id: string, reachable: boolean, reason?: string): void {
    const e = this.#entries.get(id);
    if (e === undefined || e.reachable === reachable) return;
    e.reachable = reachable;
    this.#recompute(e, reason);
  }

  /** Where a device's maintenance comes from; null when it is not in maintenance. */
  maintenanceOf(id: string): "config" | "runtime" | null {
    if (this.#configMaintenance(id)) return "config";
    return this.#runtime.has(id) ? "runtime" : null;
  }

  /**
   * Switches run-time maintenance. The change passes the interceptor like any other (in order
   * after the device's changes already waiting); the flag is set only when it is applied.
   * Config maintenance stays on whatever is asked here. Unknown devices: undefined.
   */
  requestMaintenance(id: string, on: boolean, reason: string): Promise<StatusOutcome> | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) {
      // Restored from before a restart for a device that has not reported yet: only the flag exists.
      if (!this.#runtime.has(id)) return undefined;
      this.#setRuntime(id, on);
      return Promise.resolve({ applied: true, status: on ? "maintenance" : "unknown", reason });
    }
    const ic = this.#interceptor;
    if (e.offers === null && (ic === null || !ic.active)) {
      this.#setRuntime(id, on);
      const next = this.#target(e);
      if (next !== e.state.status) this.#apply(e, next, reason);
      return Promise.resolve({ applied: true, status: e.state.status, reason });
    }
    return new Promise<StatusOutcome>((done) => {
      this.#enqueue(e, { reason, maintenance: on, started: false, done });
    });
  }

  /**
   * Run-time maintenance kept from before a restart: on at once, without asking the interceptor
   * (it is not a change). A device not known yet starts in maintenance when it appears.
   */
  restoreMaintenance(id: string, reason: string): void {
    this.#runtime.add(id);
    const e = this.#entries.get(id);
    if (e === undefined || e.offers !== null) return;
    const next = this.#target(e);
    if (next !== e.state.status) this.#apply(e, next, reason);
  }

  #configMaintenance(id: string): boolean {
    return Object.hasOwn(this.#meta, id) && this.#meta[id]?.maintenance === true;
  }

  #setRuntime(id: string, on: boolean): void {
    if (on) this.#runtime.add(id);
    else this.#runtime.delete(id);
  }

  #create(id: string, product: string, source: SourceKind, info: DeviceInfo | undefined): Entry {
    const meta = Object.hasOwn(this.#meta, id) ? this.#meta[id] : undefined;
    const configMaintenance = meta?.maintenance === true;
    const state: DeviceState = {
      id,
      product: info?.product ?? meta?.product ?? product,
      status: configMaintenance || this.#runtime.has(id) ? "maintenance" : "unknown",
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
    const entry: Entry = { state, mqttValues: 0, reachable: null, configMaintenance, offers: null };
    this.#entries.set(id, entry);
    this.#list = null;
    return entry;
  }

  /** The status the inputs give; `maintenance` overrides the run-time flag (a request being offered). */
  #target(e: Entry, maintenance: boolean = this.#runtime.has(e.state.id)): DeviceStatus {
    return e.configMaintenance || maintenance
      ? "maintenance"
      : e.reachable === null
        ? "unknown"
        : !e.reachable
          ? "offline"
          : this.#alarms?.has(e.state.id)
            ? "alarm"
            : "online";
  }

  #recompute(e: Entry, reason: string | undefined): void {
    // A change is waiting for the interceptor: this one is weighed after it, from the inputs then.
    if (e.offers !== null) {
      this.#enqueue(e, null, reason);
      return;
    }
    const next = this.#target(e);
    const prev = e.state.status;
    if (prev === next) return;
    const ic = this.#interceptor;
    if (ic?.active) {
      this.#enqueue(e, null, reason);
      return;
    }
    this.#apply(e, next, reason ?? defaultStatusReason(prev, next));
  }

  /** Queues `offer` (or a recomputation when null: one waiting is enough, it reads the inputs when offered). */
  #enqueue(e: Entry, offer: Offer | null, reason?: string): void {
    if (offer === null) {
      const last = e.offers?.[e.offers.length - 1];
      if (last !== undefined && !last.started && last.maintenance === null) {
        if (reason !== undefined) last.reason = reason;
        return;
      }
      offer = { reason, maintenance: null, started: false, done: null };
    }
    if (e.offers !== null) {
      e.offers.push(offer);
      return;
    }
    e.offers = [offer];
    void this.#drain(e, e.offers);
  }

  async #drain(e: Entry, offers: Offer[]): Promise<void> {
    while (offers.length > 0) {
      const o = offers[0] as Offer;
      o.started = true;
      let out: StatusOutcome;
      try {
        out = await this.#offer(e, o);
      } catch (err) {
        // Only a listener or a bug can get here: the queue must go on, the caller must get an answer.
        this.#log?.error({ err, deviceId: e.state.id }, "device status change failed");
        out = { applied: false, status: e.state.status, reason: "internal error", hook: "", kind: "processing" };
      }
      offers.shift();
      o.done?.(out);
    }
    e.offers = null;
  }

  async #offer(e: Entry, o: Offer): Promise<StatusOutcome> {
    const prev = e.state.status;
    const next = this.#target(e, o.maintenance ?? this.#runtime.has(e.state.id));
    const reason = o.reason ?? defaultStatusReason(prev, next);
    if (next === prev) {
      if (o.maintenance !== null) this.#setRuntime(e.state.id, o.maintenance);
      return { applied: true, status: prev, reason };
    }
    const verdict = await this.#ask(e, prev, next, reason);
    if (!verdict.apply) {
      return { applied: false, status: e.state.status, reason: verdict.reason, hook: verdict.hook, kind: verdict.kind };
    }
    if (o.maintenance !== null) this.#setRuntime(e.state.id, o.maintenance);
    if (verdict.status !== e.state.status) this.#apply(e, verdict.status, verdict.reason);
    return { applied: true, status: e.state.status, reason: verdict.reason };
  }

  async #ask(e: Entry, from: DeviceStatus, to: DeviceStatus, reason: string): Promise<DeviceStatusVerdict> {
    const ic = this.#interceptor;
    if (ic === null || !ic.active) return { apply: true, status: to, reason };
    try {
      return await ic.beforeDeviceStatus({ device: snapshot(e.state), from, to, reason });
    } catch (err) {
      // A failing interceptor must not freeze a device's status: the change goes on as computed.
      this.#log?.error(
        { err, deviceId: e.state.id, from, to },
        "beforeDeviceStatus failed; status changed as computed",
      );
      return { apply: true, status: to, reason };
    }
  }

  #apply(e: Entry, next: DeviceStatus, reason: string): void {
    const prev = e.state.status;
    e.state.status = next;
    this.#changeReason = reason;
    try {
      this.#events.emit("deviceStatusChanged", snapshot(e.state), prev, next);
    } finally {
      this.#changeReason = undefined;
    }
  }
}

/** Why a status changed, when whoever changed an input did not say. */
export function defaultStatusReason(from: DeviceStatus, to: DeviceStatus): string {
  if (to === "alarm") return "an alarm is active";
  if (from === "alarm" && to === "online") return "no active alarm left";
  if (to === "maintenance") return "maintenance on";
  if (from === "maintenance") return "maintenance off";
  if (to === "online") return "reading received";
  return "source report";
}

/** A copy of a device's state that later readings will not mutate (for hooks and events kept past the call). */
export function snapshot(state: DeviceState): DeviceState {
  return { ...state, values: { ...state.values } };
}
