// A rule's `period` P and its firings. A new episode of a (rule, device) that begins less than P s
// after that pair's last raise is a silenced repeat: counted on the raised record (recurrences,
// lastRecurrence), nothing else is raised, sent or announced. A rule with `actions.alarm: false`
// raises firings (their own table) instead of alarms: records that carry the rule's work order and
// webhook, and its period, but are never alarms (no alarm events, no device `alarm` status).

import type { Clock } from "../core/clock.js";
import type { CompiledRule } from "../core/ports.js";
import type { Alarm, AlarmStatus, DeviceState } from "../core/types.js";
import type { Pending } from "./commit.js";
import { createdChange, type Episode, type Episodes } from "./episodes.js";
import { Transition } from "./state.js";

export class Recurrences {
  readonly #clock: Clock;
  readonly #push: (p: Pending) => void;

  constructor(clock: Clock, push: (p: Pending) => void) {
    this.#clock = clock;
    this.#push = push;
  }

  /** Whether a new episode begins within the rule's period of the pair's last raise. */
  silenced(ep: Episode, rule: CompiledRule): boolean {
    const periodS = rule.def.period ?? 0;
    return periodS > 0 && ep.raisedAt >= 0 && this.#clock.now() - ep.raisedAt < periodS * 1000;
  }

  /** A transition inside a silenced repeat: its begin is counted on the raised record, its end noted. */
  repeat(ep: Episode, t: Transition): void {
    if (t === Transition.Create) {
      ep.repeating = true;
      if (ep.raisedId !== null) this.#pushRepeat(ep, ep.status);
    } else if (t === Transition.Resolve) {
      ep.repeating = false;
      if (ep.raisedId !== null) this.#pushRepeat(ep, 0);
    }
  }

  /** The pair is forgotten (its rule went away) while a silenced repeat is going on: note its end. */
  endRepeat(ep: Episode): void {
    if (ep.repeating && ep.raisedId !== null) this.#pushRepeat(ep, 0);
  }

  /** `rec` was raised for the pair: its period counts from now on. */
  raised(ep: Episode, rec: Alarm, firing: boolean): void {
    ep.raisedAt = rec.created;
    ep.raisedId = rec.id;
    ep.raisedFiring = firing;
    ep.product = rec.resource.product;
  }

  /** A new episode of a rule with `actions.alarm: false`: the firing record carries its actions. */
  fire(ep: Episode, rule: CompiledRule, record: Alarm, dev: DeviceState): void {
    ep.firing = true;
    ep.alarm = record;
    this.raised(ep, record, true);
    const change = createdChange(rule, record, dev);
    change.firing = true;
    this.#push({ change, repeat: null, done: undefined });
  }

  /** The record `alarmId` of `deviceId` was deleted: the period holds, repeats have nothing to count on. */
  forget(episodes: Episodes, deviceId: string, alarmId: string): void {
    for (const byDevice of episodes.byRule.values()) {
      const ep = byDevice.get(deviceId);
      if (ep !== undefined && ep.raisedId === alarmId) ep.raisedId = null;
    }
  }

  #pushRepeat(ep: Episode, status: AlarmStatus): void {
    const repeat = { id: ep.raisedId as string, firing: ep.raisedFiring, status, at: this.#clock.now() };
    this.#push({ change: null, repeat, done: undefined });
  }
}
