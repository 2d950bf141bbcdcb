// `edge-agent alarms [--status active|resolved|all] [--json] [--limit N] [-c FILE] [--db FILE]`:
// lists alarms from <dataDir>/edge-agent.db, opened read-only so it is safe next to a running
// agent (WAL readers never block the writer). No database yet is not an error.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { alarmShape } from "../alarms/shape.js";
import { bestEffortDirs } from "../config/best-effort.js";
import { DATABASE_FILE, loadConfig, resolvePath } from "../config/load.js";
import { configSecrets } from "../config/redact-config.js";
import { errorMessage } from "../core/errors.js";
import type { AlarmListQuery } from "../core/ports.js";
import { redact } from "../core/redact.js";
import type { Alarm } from "../core/types.js";
import { AlarmsRepo, LIST_LIMIT_MAX } from "../store/alarms-repo.js";
import { type Db, hasTable, openDatabase } from "../store/db.js";
import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, formatColumns } from "./io.js";

const USAGE = "Usage: edge-agent alarms [-c FILE] [--db FILE] [--status active|resolved|all] [--json] [--limit N]\n";
const STATUSES = ["active", "resolved", "all"] as const;
type StatusFilter = (typeof STATUSES)[number];

export const STATUS_WORDS: Record<number, string> = { 0: "resolved", 1: "warning", 2: "alarm" };

/**
 * Alarms newest first through the repository's list query (the one the local API uses); `limit` 0
 * pages through all of them.
 */
export function queryAlarms(db: Db, status: StatusFilter, limit: number): { rows: Alarm[]; total: number } {
  const repo = new AlarmsRepo(db);
  const q: AlarmListQuery = {
    status: status === "active" ? "active" : status === "resolved" ? 0 : "all",
    order: "desc",
    orderBy: "created",
  };
  if (limit > 0) {
    const { total, alarms } = repo.list({ ...q, limit });
    return { rows: alarms, total };
  }
  const rows: Alarm[] = [];
  for (;;) {
    const page = repo.list({ ...q, offset: rows.length, limit: LIST_LIMIT_MAX });
    rows.push(...page.alarms);
    if (page.alarms.length < LIST_LIMIT_MAX || rows.length >= page.total) return { rows, total: page.total };
  }
}

/** "45s", "12m 05s", "3h 02m", "2d 4h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local date and time, `YYYY-MM-DD HH:MM:SS`, the way a site engineer reads the cabinet clock. */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatAlarmTable(alarms: readonly Alarm[], now: number): string {
  const header = ["ID", "STATUS", "LEVEL", "DEVICE", "TITLE", "CREATED", "DURATION"];
  // Silenced repeats (new episodes within the rule's period) only when some alarm has them.
  const repeats = alarms.some((a) => (a.recurrences ?? 0) > 0);
  if (repeats) header.push("REPEATS");
  // Alarms kept local (raised during maintenance) only when some alarm is.
  const suppressed = alarms.some((a) => a.suppressed !== undefined);
  if (suppressed) header.push("SUPPRESSED");
  const rows = alarms.map((a) => [
    a.id,
    STATUS_WORDS[a.status] ?? String(a.status),
    String(a.level),
    a.resource.id,
    a.title ?? a.name ?? "",
    formatLocalTime(a.created),
    formatDuration((a.resolvedAt ?? now) - a.created),
    ...(repeats ? [repeatsCell(a)] : []),
    ...(suppressed ? [a.suppressed ?? ""] : []),
  ]);
  return formatColumns(header, rows);
}

/** "3 (last 2026-01-15 08:05:00)", or "" when none. */
function repeatsCell(a: Alarm): string {
  const n = a.recurrences ?? 0;
  if (n === 0) return "";
  return a.lastRecurrence ? `${n} (last ${formatLocalTime(a.lastRecurrence)})` : String(n);
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    config: { type: "string", short: "c", default: DEFAULT_CONFIG },
    db: { type: "string" },
    status: { type: "string", default: "active" },
    json: { type: "boolean", default: false },
    limit: { type: "string", default: "100" },
  });
  if (!parsed.ok) {
    io.stderr(`edge-agent alarms: ${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  const status = v.status as StatusFilter;
  if (!STATUSES.includes(status)) {
    io.stderr(`edge-agent alarms: --status must be active, resolved or all, got '${v.status}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  const limit = Number(v.limit);
  if (!Number.isInteger(limit) || limit < 0) {
    io.stderr(`edge-agent alarms: --limit must be a whole number (0 = no limit), got '${v.limit}'\n${USAGE}`);
    return EXIT_USAGE;
  }

  // The config is read also with --db: its secrets are masked in what is printed (an operator may
  // have pasted a token into a rule or alarm title). Without the service's environment only the
  // secrets written in the file itself are known.
  const cfgFile = v.config ?? DEFAULT_CONFIG;
  const loaded = await loadConfig(cfgFile, io.env, { cwd: io.cwd });
  const secrets = [...new Set([...loaded.secrets, ...configSecrets(loaded.config)])];
  let file: string;
  if (v.db !== undefined) file = resolvePath(v.db, io.cwd);
  else {
    let dataDir = loaded.config?.dataDir;
    if (dataDir === undefined) {
      // Listing alarms must work from a shell without the service's secrets in the environment.
      dataDir = (await bestEffortDirs(cfgFile, io.cwd)).dataDir;
      io.stderr(`note: ${cfgFile} has problems (see edge-agent validate); reading alarms from ${dataDir}\n`);
    }
    file = join(dataDir, DATABASE_FILE);
  }

  if (!existsSync(file)) {
    if (v.json) io.stdout("[]\n");
    else io.stdout(`No alarms yet: there is no database at ${file} (the agent has not run with this dataDir).\n`);
    return EXIT_OK;
  }
  let db: Db;
  try {
    db = openDatabase(file, { readonly: true });
  } catch (err) {
    io.stderr(`edge-agent alarms: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  }
  try {
    if (!hasTable(db, "alarms")) {
      if (v.json) io.stdout("[]\n");
      else io.stdout(`No alarms yet: ${file} has no alarms table (the agent has not started with it).\n`);
      return EXIT_OK;
    }
    const { rows, total } = queryAlarms(db, status, limit);
    if (v.json) {
      // Shaped as the local API answers, and masked the same way.
      io.stdout(`${JSON.stringify(redact(rows.map(alarmShape), secrets), null, 2)}\n`);
      return EXIT_OK;
    }
    const what = status === "all" ? "" : `${status} `;
    if (rows.length === 0) {
      io.stdout(`No ${what}alarms.\n`);
      return EXIT_OK;
    }
    io.stdout(formatAlarmTable(redact(rows, secrets), Date.now()));
    if (total > rows.length)
      io.stdout(`(showing the newest ${rows.length} of ${total} ${what}alarms; --limit 0 shows all)\n`);
    return EXIT_OK;
  } catch (err) {
    io.stderr(`edge-agent alarms: cannot read ${file}: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  } finally {
    db.close();
  }
}
