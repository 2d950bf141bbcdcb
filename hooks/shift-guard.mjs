// Example hook: a guard on the local API (beforeRequest).
//
// Inert until configured (environment of the agent):
//   SHIFT_GUARD_HOURS=06:00-22:00   arms it: the hours (site time, config `timezone`) in which
//                                   operators may resolve alarms; "22:00-06:00" spans midnight
// When armed:
//   - POST /rule/del is always refused (403): a rule is removed by editing its file, under the
//     site's change control, not from a browser;
//   - an operator resolve (POST /alert/update with "status": 0) outside the hours is refused (403),
//     so alarms raised at night stay open for the morning shift to review.
// kv key "hours" (same format) overrides SHIFT_GUARD_HOURS while armed, e.g. for a holiday rota:
// set it from another hook with ctx.kv.set("hours", "00:00-23:59") (this hook's namespace).
// Without SHIFT_GUARD_HOURS the module defines no beforeRequest at all, so requests cost nothing.
//
// If this hook throws anything other than the typed errors (a bug), the request PASSES: a broken
// guard must not lock operators out of alarm handling.

/** @typedef {import('edge-agent').Hook} Hook */
/** @typedef {import('edge-agent').HookContext} HookContext */

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * "06:00-22:00" as minutes of the day, or undefined when malformed.
 * @param {unknown} text
 * @returns {{ from: number, to: number } | undefined}
 */
function parseHours(text) {
  const m = typeof text === "string" ? HOURS.exec(text.trim()) : null;
  if (!m) return undefined;
  return { from: Number(m[1]) * 60 + Number(m[2]), to: Number(m[3]) * 60 + Number(m[4]) };
}

/**
 * Whether `minute` (of the day) lies in the window; a window whose end is before its start spans midnight.
 * @param {{ from: number, to: number }} w
 * @param {number} minute
 */
function inWindow(w, minute) {
  return w.from <= w.to ? minute >= w.from && minute < w.to : minute >= w.from || minute < w.to;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/**
 * The current minute of the day in the site's time zone (the system's when config has none).
 * @param {string | undefined} timeZone
 */
function minuteNow(timeZone) {
  const key = timeZone ?? "";
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone });
    formats.set(key, f);
  }
  const parts = f.formatToParts(new Date());
  const get = (/** @type {string} */ t) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

const configured = process.env.SHIFT_GUARD_HOURS;
const hours = configured ? parseHours(configured) : undefined;
if (configured && hours === undefined) {
  // Loud at load (and in `edge-agent validate`): a guard that silently guards nothing is worse.
  throw new Error(`SHIFT_GUARD_HOURS="${configured}" is not a window like 06:00-22:00 (24-hour HH:MM-HH:MM)`);
}

/** @type {Hook} */
const guard = {
  start(ctx) {
    ctx.log.info({ hours: configured }, "shift guard armed: /rule/del refused, resolves only within the hours");
  },

  beforeRequest(req, ctx) {
    if (req.method !== "POST") return;
    if (req.path === "/rule/del") {
      throw new ctx.errors.PermissionDenied(
        "Rules cannot be deleted from the local API on this site: remove the rule from its file under change control",
      );
    }
    if (req.path !== "/alert/update" || req.body?.status !== 0) return;
    const override = ctx.kv.get("hours");
    const o = override !== undefined ? parseHours(override) : undefined;
    if (override !== undefined && o === undefined) {
      ctx.log.warn({ hours: override }, "kv hours is not a window like 06:00-22:00: SHIFT_GUARD_HOURS applies");
    }
    const w = o ?? hours;
    if (w === undefined || inWindow(w, minuteNow(ctx.config.timezone))) return;
    const label = o !== undefined ? String(override) : configured;
    throw new ctx.errors.PermissionDenied(
      `Alarms can be resolved only during shift hours (${label}, site time); leave it open for the next shift`,
    );
  },
};

/** @type {Hook} */
const off = {
  start(ctx) {
    ctx.log.info("shift guard off (set SHIFT_GUARD_HOURS, e.g. 06:00-22:00, to arm it)");
  },
};

export default hours ? guard : off;
