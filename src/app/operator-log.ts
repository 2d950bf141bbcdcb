// What the operator reads in the journal besides each part's own lines: one line per committed
// alarm change, and (when log.valuesIntervalMs is set) each device's latest values now and then.

import type { Clock } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { Alarm } from "../core/types.js";

/** One line per committed alarm change. */
export function logAlarmEvents(events: EventBus, log: Logger): void {
  const fields = (a: Alarm) => ({
    alarmId: a.id,
    ruleId: a.ruleId,
    deviceId: a.resource.id,
    status: a.status,
    level: a.level,
    message: a.message,
  });
  events.on("alarmCreated", (a) => log.info(fields(a), a.status === 2 ? "alarm raised" : "pre-warning raised"));
  events.on("alarmUpdated", (a) => log.info(fields(a), a.status === 2 ? "alarm escalated" : "alarm de-escalated"));
  events.on("alarmResolved", (a) => log.info(fields(a), "alarm resolved"));
}

/** Latest values per device at most every `everyMs` (the demo shows live readings this way); 0 = off. */
export function logDeviceValues(events: EventBus, clock: Clock, log: Logger, everyMs: number): void {
  if (everyMs <= 0) return;
  const last = new Map<string, number>();
  events.on("reading", (reading, device) => {
    const now = clock.monotonic();
    const prev = last.get(device.id);
    if (prev !== undefined && now - prev < everyMs) return;
    last.set(device.id, now);
    log.info({ deviceId: device.id, status: device.status, values: reading.values }, "readings");
  });
}
