// `edge-agent maintenance [DID on|off] [--until TIME|DURATION] [--reason TEXT] [--json] [-c FILE]`:
// lists the devices in maintenance, or switches one, through the running agent's local API (the
// agent holds the device state and offers the change to its hooks; the database alone cannot).
// Host and port come from the config's http section; the token from EDGE_AGENT_HTTP_TOKEN, else
// the config's http.token (with its ${VAR} references taken from this shell's environment).

import type { MaintenanceEntry } from "../core/maintenance-ports.js";
import { formatLocalTime } from "./alarms.js";
import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, formatColumns } from "./io.js";
import { type ApiAnswer, callLocalApi, localApiTarget, refusedTokenMessage, unreachableMessage } from "./local-api.js";

export const HELP = `Usage: edge-agent maintenance [-c FILE] [--json]
       edge-agent maintenance DID on [--until TIME|DURATION] [--reason TEXT] [-c FILE] [--json]
       edge-agent maintenance DID off [-c FILE] [--json]

Without arguments: lists the devices in maintenance. With DID on|off: switches the device's
maintenance in the running agent (its rules still evaluate; new alarms stay local).
  --until     when it ends by itself: a duration (30m, 2h, 1d, 1h30m), an ISO-8601 date-time
              (2026-12-01T18:00:00+01:00) or epoch milliseconds; default: until switched off
  --reason    why, shown in the list, the log and the status change (e.g. "panel work")

The agent is reached at the config's http.host/http.port; the token is EDGE_AGENT_HTTP_TOKEN,
else http.token of the config. Documentation: docs/cli.md
`;

const USAGE = "Usage: edge-agent maintenance [DID on|off] [--until TIME|DURATION] [--reason TEXT] [-c FILE] [--json]\n";
const UNITS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/** "2h", "30m", "1h30m", "1d" as milliseconds; undefined when `s` is not a duration. */
export function parseDuration(s: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s.trim());
  if (m === null || s.trim() === "") return undefined;
  const [d, h, min, sec] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [number, number, number, number];
  const ms = d * UNITS.d + h * UNITS.h + min * UNITS.m + sec * UNITS.s;
  return ms > 0 ? ms : undefined;
}

/** What --until means for the API: a duration becomes epoch ms from `now`; anything else goes as written. */
export function untilValue(raw: string, now: number): number | string {
  const ms = parseDuration(raw);
  if (ms !== undefined) return now + ms;
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw.trim();
}

export function formatMaintenanceTable(entries: readonly MaintenanceEntry[]): string {
  const header = ["DEVICE", "FROM", "SINCE", "UNTIL", "BY", "STATUS", "REASON"];
  const rows = entries.map((e) => [
    e.did,
    e.origin,
    e.since === null ? "-" : formatLocalTime(e.since),
    e.until === null ? "-" : formatLocalTime(e.until),
    e.by,
    e.status,
    e.reason,
  ]);
  return formatColumns(header, rows);
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      config: { type: "string", short: "c", default: DEFAULT_CONFIG },
      until: { type: "string" },
      reason: { type: "string" },
      json: { type: "boolean", default: false },
    },
    { positionals: true },
  );
  if (!parsed.ok) {
    io.stderr(`edge-agent maintenance: ${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  const [did, onOff, ...extra] = parsed.positionals;
  if (extra.length > 0 || (did !== undefined && onOff === undefined)) {
    io.stderr(`edge-agent maintenance: expected DID on|off, got '${parsed.positionals.join(" ")}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (onOff !== undefined && onOff !== "on" && onOff !== "off") {
    io.stderr(`edge-agent maintenance: the second argument must be on or off, got '${onOff}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (onOff !== "on" && (v.until !== undefined || v.reason !== undefined)) {
    io.stderr(`edge-agent maintenance: --until and --reason go with 'DID on'\n${USAGE}`);
    return EXIT_USAGE;
  }
  const file = v.config ?? DEFAULT_CONFIG;
  const t = await localApiTarget(file, io);
  if (t.disabled) {
    io.stderr(
      `edge-agent maintenance: the local API is disabled in ${file} (http.enabled: false); ` +
        "run-time maintenance needs it (or set devices.<id>.maintenance in the config)\n",
    );
    return EXIT_FAILURE;
  }
  if (t.note) io.stderr(`note: ${t.note}; trying the agent at ${t.base}\n`);

  let answer: ApiAnswer;
  try {
    answer =
      did === undefined
        ? await callLocalApi(t, "GET", "/device/maintenance/list")
        : await callLocalApi(t, "POST", "/device/maintenance", {
            did,
            on: onOff === "on",
            by: "cli",
            ...(v.reason !== undefined ? { reason: v.reason } : {}),
            ...(v.until !== undefined ? { until: untilValue(v.until, Date.now()) } : {}),
          });
  } catch (err) {
    io.stderr(unreachableMessage("maintenance", err, t, file, "Maintenance is switched in the running agent"));
    return EXIT_FAILURE;
  }
  if (answer.status === 401) {
    io.stderr(refusedTokenMessage("maintenance", t));
    return EXIT_FAILURE;
  }
  if (answer.status !== 200 || answer.body.code !== 0) {
    const code = answer.body.code !== undefined ? ` ${answer.body.code}` : "";
    io.stderr(
      `edge-agent maintenance: refused (HTTP ${answer.status}${code}): ${answer.body.message ?? "no message"}\n`,
    );
    return EXIT_FAILURE;
  }
  if (v.json) {
    io.stdout(`${JSON.stringify(answer.body.data, null, 2)}\n`);
    return EXIT_OK;
  }
  if (did === undefined) {
    const entries = (answer.body.data as { devices: MaintenanceEntry[] }).devices;
    io.stdout(entries.length === 0 ? "No device is in maintenance.\n" : formatMaintenanceTable(entries));
    return EXIT_OK;
  }
  const data = answer.body.data as { status: string; maintenance: MaintenanceEntry | null };
  const m = data.maintenance;
  if (onOff === "on") {
    const until = m?.until ? ` until ${formatLocalTime(m.until)}` : "";
    io.stdout(`${did}: maintenance on${until}${m?.reason ? ` (${m.reason})` : ""}; status ${data.status}\n`);
  } else io.stdout(`${did}: maintenance off; status ${data.status}\n`);
  return EXIT_OK;
}
