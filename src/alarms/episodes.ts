// The in-memory episodes of the alarm service: one per (rule, device) pair that has been above
// level 0, plus one per operator alarm. An episode holds the state machine's record (state.ts),
// the open record it produced and what the rule's period needs (recurrence.ts). The database is
// the truth at start (restore.ts rebuilds this table from it).

import type { AlarmChange, CompiledRule, DeviceView } from "../core/ports.js";
import type { Alarm, DeviceState } from "../core/types.js";
import { type EpisodeState, newEpisodeState } from "./state.js";

export interface Episode extends EpisodeState {
  readonly ruleId: string;
  readonly deviceId: string;
  rule: CompiledRule | null;
  /** The open record (alarm, or firing when `firing`) as last queued (may be ahead of the database by one batch). */
  alarm: Alarm | null;
  /** The open record is a firing of a rule with `actions.alarm: false`. */
  firing: boolean;
  /** A `beforeAlarm` call is in flight; transitions meanwhile are reconciled when it answers. */
  asking: boolean;
  /** The rule was removed: a late `beforeAlarm` answer must not create anything. */
  removed: boolean;
  /** Epoch ms of the pair's last raise (alarm or firing); -1 when none is known. */
  raisedAt: number;
  /** The record of that raise (null when deleted) and whether it is a firing. */
  raisedId: string | null;
  raisedFiring: boolean;
  /** The current episode is a silenced repeat: nothing is raised until it ends. */
  repeating: boolean;
  /** Product of the device, for rule re-targeting checks while the device is not live yet. */
  product: string;
}

function newEpisode(ruleId: string, deviceId: string): Episode {
  return {
    ...newEpisodeState(),
    ruleId,
    deviceId,
    rule: null,
    alarm: null,
    firing: false,
    asking: false,
    removed: false,
    raisedAt: -1,
    raisedId: null,
    raisedFiring: false,
    repeating: false,
    product: "",
  };
}

export class Episodes {
  /** rule id → device id → episode: two lookups and no key string per reading. */
  readonly byRule = new Map<string, Map<string, Episode>>();
  /** Open alarms by id (rule episodes and operator alarms); firings are not alarms and are not here. */
  readonly byAlarmId = new Map<string, Episode>();
  readonly #devices: DeviceView;

  constructor(devices: DeviceView) {
    this.#devices = devices;
  }

  clear(): void {
    this.byRule.clear();
    this.byAlarmId.clear();
  }

  /** The episode of a pair, created when missing. */
  episode(ruleId: string, deviceId: string): Episode {
    let byDevice = this.byRule.get(ruleId);
    if (byDevice === undefined) {
      byDevice = new Map();
      this.byRule.set(ruleId, byDevice);
    }
    let ep = byDevice.get(deviceId);
    if (ep === undefined) {
      ep = newEpisode(ruleId, deviceId);
      byDevice.set(deviceId, ep);
    }
    return ep;
  }

  /** An operator alarm: an episode of its own, outside the (rule, device) map. */
  standalone(a: Alarm): Episode {
    return newEpisode("", a.resource.id);
  }

  /** The device of an episode: live when the registry knows it, else as its alarm describes it. */
  deviceFor(ep: Episode): DeviceState {
    const live = this.#devices.get(ep.deviceId);
    if (live) return live;
    const d = this.deviceOf(ep.alarm);
    d.id = ep.deviceId;
    if (d.product === "") d.product = ep.product;
    return d;
  }

  /** A device as an alarm record describes it (the device is not live). */
  deviceOf(a: Alarm | null): DeviceState {
    const live = a ? this.#devices.get(a.resource.id) : undefined;
    if (live) return live;
    const r = a?.resource;
    const d: DeviceState = {
      id: r?.id ?? "",
      product: r?.product ?? "",
      status: "offline",
      lastSeen: null,
      values: {},
      source: "internal",
    };
    if (r?.name !== undefined) d.name = r.name;
    if (r?.areaId !== undefined) d.areaId = r.areaId;
    if (a?.location) d.location = a.location;
    return d;
  }
}

/** Who a rule's transitions are attributed to: quota alarms come from synthetic `quota:` rules. */
export function causeOf(rule: CompiledRule): string {
  return rule.file.startsWith("quota:") ? "quota" : "rule";
}

/** A copy of a device's state that later readings will not mutate (the change outlives the call). */
export function snapshot(d: DeviceState): DeviceState {
  return { ...d, values: { ...d.values } };
}

/** The change that raises `alarm` (or a firing) for a rule's new episode. */
export function createdChange(rule: CompiledRule, alarm: Alarm, dev: DeviceState): AlarmChange {
  const remark = alarm.status === 2 ? "conditions hold" : "warnConditions hold";
  return {
    kind: "created",
    alarm,
    previous: null,
    rule: rule.def,
    device: dev,
    cause: { by: causeOf(rule), remark: rule.def.for ? `${remark} for ${rule.def.for} s` : remark },
    now: alarm.created,
  };
}
