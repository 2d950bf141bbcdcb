// Start-up: the database is the truth (also after a stop/start in the same process). The episodes,
// the periods of every (rule, device) pair, the silenced repeats going on at the stop and the open
// alarms are rebuilt from the alarms and firings tables, and the id generator continues after the
// newest record of either.

import type { AlarmsRepo } from "../store/alarms-repo.js";
import type { Episodes } from "./episodes.js";
import type { AlarmIdGenerator } from "./ids.js";
import type { OpenAlarms } from "./open-alarms.js";

/** Rebuilds `episodes` and `open` from the tables; returns the number of open alarms. */
export function restore(episodes: Episodes, open: OpenAlarms, repo: AlarmsRepo, firings: AlarmsRepo): number {
  episodes.clear();
  // Last raises first: the period of a pair survives a restart.
  for (const [r, isFiring] of [
    [repo, false],
    [firings, true],
  ] as const) {
    for (const last of r.lastRaises()) {
      const ep = episodes.episode(last.ruleId, last.deviceId);
      if (last.created > ep.raisedAt) {
        ep.raisedAt = last.created;
        ep.raisedId = last.id;
        ep.raisedFiring = isFiring;
      }
    }
    // A silenced repeat going on at the stop is still the same episode, not a new raise.
    for (const rep of r.repeating()) {
      const ep = episodes.episode(rep.ruleId, rep.deviceId);
      if (ep.raisedId === rep.id) {
        ep.repeating = true;
        ep.status = rep.status;
      }
    }
  }
  // Open alarms are the current episodes: a condition that persists across a restart is the
  // same alarm, not a second one (its `for` window restarts, since that is not persisted).
  const alarms = repo.active();
  for (const a of alarms) {
    const ep = a.ruleId === "" ? episodes.standalone(a) : episodes.episode(a.ruleId, a.resource.id);
    ep.status = a.status;
    ep.alarm = a;
    ep.product = a.resource.product;
    episodes.byAlarmId.set(a.id, ep);
  }
  for (const a of firings.active()) {
    const ep = episodes.episode(a.ruleId, a.resource.id);
    ep.status = a.status;
    ep.alarm = a;
    ep.firing = true;
    ep.product = a.resource.product;
  }
  open.reset(alarms.map((a) => a.resource.id));
  return alarms.length;
}

/** Ids are time-ordered strings: the larger one is the newest, whichever table holds it. */
export function seedIds(ids: AlarmIdGenerator, repo: AlarmsRepo, firings: AlarmsRepo): void {
  const a = repo.maxId();
  const f = firings.maxId();
  ids.seed(a !== null && f !== null && f > a ? f : (a ?? f));
}
