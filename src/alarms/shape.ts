// The one shape of an alarm outside the agent: the local API (/alert/*, /status, /events),
// `edge-agent alarms --json` and the tests all use it. It is the stored alarm with the platform's
// name for the device (`device`, beside the agent's `resource`), and the fields every reader may
// rely on always present: origin, recurrences, lastRecurrence.

import type { Alarm } from "../core/types.js";

export type AlarmShape = Alarm & {
  device: Alarm["resource"];
  origin: "rule" | "operator";
  recurrences: number;
  lastRecurrence: number | null;
};

export function alarmShape(a: Alarm): AlarmShape {
  return {
    ...a,
    origin: a.origin ?? "rule",
    recurrences: a.recurrences ?? 0,
    lastRecurrence: a.lastRecurrence ?? null,
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
