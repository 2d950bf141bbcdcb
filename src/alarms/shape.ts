// The one shape of an alarm outside the agent: the local API (/alert/*, /status, /events),
// `edge-agent alarms --json` and the tests all use it. It is the stored alarm with the platform's
// name for the device (`device`, beside the agent's `resource`), and the fields every reader may
// rely on always present: origin, recurrences, lastRecurrence, suppressed.

import type { Alarm } from "../core/types.js";

export type AlarmShape = Omit<Alarm, "suppressed"> & {
  device: Alarm["resource"];
  origin: "rule" | "operator";
  recurrences: number;
  lastRecurrence: number | null;
  /** Why it was kept local ("maintenance"), null for an alarm that goes upstream. */
  suppressed: string | null;
};

export function alarmShape(a: Alarm): AlarmShape {
  return {
    ...a,
    origin: a.origin ?? "rule",
    recurrences: a.recurrences ?? 0,
    lastRecurrence: a.lastRecurrence ?? null,
    suppressed: a.suppressed ?? null,
    device: a.resource,
  };
}

/** The platform's list answer. */
export interface AlarmListShape {
  total: number;
  offset: number;
  limit: number;
  alerts: AlarmShape[];
}
