// Example hook: an interlock. When a critical alarm (level >= 4) is raised on a watched device,
// write a Modbus point (e.g. open the breaker by writing coil `breaker_on` = false).
//
// Inert until configured (environment of the agent):
//   INTERLOCK_DEVICE=meter-01        device whose point is written (required)
//   INTERLOCK_POINT=breaker_on       point name from the device's Modbus config (default breaker_on);
//                                    the point must be marked "writable": true there (writes are opt-in)
//   INTERLOCK_VALUE=false            value written: true/false or a number (default false)
//   INTERLOCK_MIN_LEVEL=4            lowest alarm level that trips (default 4, critical)
//   INTERLOCK_RULES=meter-overvoltage,meter-overcurrent   only these rule ids (default: any rule)
//   INTERLOCK_SOURCE_DEVICE=meter-01 only alarms of this device (default: INTERLOCK_DEVICE)
// Only status-2 alarms trip it (not pre-warnings). Each trip is recorded in kv "lastTrip".
// The write is not undone on resolve: re-closing a breaker is a decision for a person on site.

/** @typedef {import('edge-agent').Hook} Hook */

function parseValue(v) {
  if (v === undefined || v === "false") return false;
  if (v === "true") return true;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

function settings() {
  const device = process.env.INTERLOCK_DEVICE;
  if (!device) return null;
  return {
    device,
    point: process.env.INTERLOCK_POINT || "breaker_on",
    value: parseValue(process.env.INTERLOCK_VALUE),
    minLevel: Number(process.env.INTERLOCK_MIN_LEVEL ?? 4),
    rules: (process.env.INTERLOCK_RULES ?? "").split(",").filter(Boolean),
    source: process.env.INTERLOCK_SOURCE_DEVICE || device,
  };
}

/** @type {Hook} */
export default {
  start(ctx) {
    const s = settings();
    ctx.log.info(s ? { interlock: s } : {}, s ? "interlock armed" : "interlock off (set INTERLOCK_DEVICE to arm it)");
  },

  async onAlarmCreated(alarm, device, rule, ctx) {
    const s = settings();
    if (!s || alarm.status !== 2 || alarm.level < s.minLevel) return;
    if (device.id !== s.source) return;
    if (s.rules.length > 0 && !s.rules.includes(rule.id)) return;
    ctx.log.warn({ alarmId: alarm.id, device: s.device, point: s.point, value: s.value }, "interlock tripping");
    await ctx.modbus.write(s.device, s.point, s.value);
    ctx.kv.set("lastTrip", { at: Date.now(), alarmId: alarm.id, ruleId: rule.id, device: s.device, point: s.point });
  },
};
