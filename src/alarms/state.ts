// The alarm state machine of one (rule, device) pair (`for`, `warnConditions`; docs/alarms.md).
// Deterministic and free of I/O and clock reads: the caller passes `nowMs` (monotonic) and gets
// the transition to perform. Raising severity (create, escalate) needs the level to hold for
// `for`; lowering it (de-escalate, resolve) is immediate. It mutates only the record it is given
// and allocates nothing, so it can run on every reading.

import type { AlarmStatus } from "../core/types.js";

export const Transition = { None: 0, Create: 1, Escalate: 2, Deescalate: 3, Resolve: 4 } as const;
export type Transition = (typeof Transition)[keyof typeof Transition];

export interface EpisodeState {
  /** Monotonic ms since the level has been ≥ 1 without a break; -1 when it is 0. */
  since1: number;
  /** Monotonic ms since the level has been 2 without a break; -1 otherwise. */
  since2: number;
  /** Status of the open alarm of this episode; 0 when there is none. */
  status: AlarmStatus;
  /**
   * No new episode until the level has been 0 once: set after an operator resolve or a
   * `beforeAlarm` suppression while the condition still holds, so neither re-raises at once.
   */
  suppressed: boolean;
}

export function newEpisodeState(status: AlarmStatus = 0): EpisodeState {
  return { since1: -1, since2: -1, status, suppressed: false };
}

/**
 * Feeds one observed level (0 none, 1 warnConditions, 2 conditions) at `nowMs` into `s`.
 * `forMs` is the rule's `for` in ms. Returns what the caller must persist; `s.status` is
 * already the status after it.
 */
export function step(s: EpisodeState, level: 0 | 1 | 2, nowMs: number, forMs: number): Transition {
  if (level === 0) {
    s.since1 = -1;
    s.since2 = -1;
    s.suppressed = false;
    if (s.status > 0) {
      s.status = 0;
      return Transition.Resolve;
    }
    return Transition.None;
  }
  if (s.since1 < 0) s.since1 = nowMs;
  if (level === 2) {
    if (s.since2 < 0) s.since2 = nowMs;
  } else {
    s.since2 = -1;
  }
  if (s.suppressed) return Transition.None;
  const held: AlarmStatus = s.since2 >= 0 && nowMs - s.since2 >= forMs ? 2 : nowMs - s.since1 >= forMs ? 1 : 0;
  if (s.status === 0) {
    if (held === 0) return Transition.None;
    s.status = held;
    return Transition.Create;
  }
  if (s.status === 1 && held === 2) {
    s.status = 2;
    return Transition.Escalate;
  }
  if (s.status === 2 && level === 1) {
    s.status = 1;
    return Transition.Deescalate;
  }
  return Transition.None;
}

/** An operator (or a rule removal) closed the episode: no new one until the condition clears. */
export function closeByOperator(s: EpisodeState): void {
  s.status = 0;
  s.suppressed = true;
}
