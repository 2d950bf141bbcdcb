// `edge-agent alarms [--status active|resolved|all] [--json] [--limit N] [-c FILE] [--db FILE]`:
// lists alarms from <dataDir>/edge-agent.db, opened read-only so it is safe next to a running
// agent (WAL readers never block the writer). No database yet is not an error.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { bestEffortDirs } from "../config/best-effort.js";
import { DATABASE_FILE, loadConfig, resolvePath } from "../config/load.js";
import { errorMessage } from "../core/errors.js";
import type { Alarm } from "../core/types.js";
import { alarmFromRow } from "../store/alarms-repo.js";
import { type Db, openDatabase } from "../store/db.js";
import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";

const USAGE = "Usage: edge-agent alarms [-c FILE] [--db FILE] [--status active|resolved|all] [--json] [--limit N]\n";
const STATUSES = ["active", "resolved", "all"] as const;
type StatusFilter = (typeof STATUSES)[number];

export const STATUS_WORDS: Record<number, string> = { 0: "resolved", 1: "warning", 2: "alarm" };

export function queryAlarms(db: Db, status: StatusFilter, limit: number): { rows: Alarm[]; total: number } {
  const where = status === "active" ? "WHERE status > 0" : status === "resolved" ? "WHERE status = 0" : "";
  const total = (db.prepare(`SELECT count(*) AS n FROM alarms ${where}`).get() as { n: number }).n;
  const lim = limit > 0 ? `LIMIT ${Math.floor(limit)}` : "";
  const rows = db.prepare(`SELECT * FROM alarms ${where} ORDER BY created DESC, id DESC ${lim}`).all() as Parameters<
    typeof alarmFromRow
  >[0][];
  return { rows: rows.map(alarmFromRow), total };
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
  const rows = alarms.map((a) => [
    a.id,
    STATUS_WORDS[a.status] ?? String(a.status),
    String(a.level),
    a.resource.id,
    a.title ?? a.name ?? "",
    formatLocalTime(a.created),
    formatDuration((a.resolvedAt ?? now) - a.created),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n").concat("\n");
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

  let file: string;
  if (v.db !== undefined) file = resolvePath(v.db, io.cwd);
  else {
    const cfgFile = v.config ?? DEFAULT_CONFIG;
    const loaded = await loadConfig(cfgFile, io.env, { cwd: io.cwd });
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
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alarms'").get();
    if (!hasTable) {
      if (v.json) io.stdout("[]\n");
      else io.stdout(`No alarms yet: ${file} has no alarms table (the agent has not started with it).\n`);
      return EXIT_OK;
    }
    const { rows, total } = queryAlarms(db, status, limit);
    if (v.json) {
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return EXIT_OK;
    }
    const what = status === "all" ? "" : `${status} `;
    if (rows.length === 0) {
      io.stdout(`No ${what}alarms.\n`);
      return EXIT_OK;
    }
    io.stdout(formatAlarmTable(rows, Date.now()));
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
