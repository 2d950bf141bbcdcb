// `edge-agent tasks [-c FILE] [--json] [--runs N]`: the tasks of tasksDir, checked as the agent
// checks them, with their schedule, whether they are enabled, the next slot and the latest runs
// read from <dataDir>/edge-agent.db (opened read-only: safe next to a running agent). No database
// yet is not an error. Exit 1 when a task file has an error (its tasks are not listed).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { DATABASE_FILE, loadConfig } from "../config/load.js";
import { configSecrets } from "../config/redact-config.js";
import { errorMessage, formatProblem, type Problem } from "../core/errors.js";
import { redact } from "../core/redact.js";
import { type Db, hasTable, openDatabase } from "../store/db.js";
import { type TaskRunRow, TasksRepo } from "../store/tasks-repo.js";
import { taskCheckContext } from "../tasks/check-context.js";
import { compileSchedule } from "../tasks/schedule.js";
import type { LoadedTask, TaskSchedule } from "../tasks/types.js";
import { hasErrors } from "../tasks/validate.js";
import { validateTasksDir } from "../tasks/validate-dir.js";
import { formatLocalTime } from "./alarms.js";
import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, formatColumns } from "./io.js";

const USAGE = "Usage: edge-agent tasks [-c FILE] [--json] [--runs N]\n";

export const HELP = `${USAGE}
Lists the scheduled tasks of tasksDir, checked as the agent checks them: id, name, schedule,
whether enabled, the next run, and the latest run's start and status (from the agent's database).

Options:
  -c, --config FILE   configuration file (default ${DEFAULT_CONFIG})
  --json              print the tasks as JSON (the task object, file, nextRun, runs)
  --runs N            also show each task's latest N runs (default 0: only the latest in the table)

Exit codes: 0 success, 1 invalid configuration or a task file with errors, 2 usage error.
`;

/** How a schedule reads in one table cell. */
export function scheduleText(s: TaskSchedule, timezone: string | undefined): string {
  const tz = timezone ? ` (${timezone})` : "";
  if ("every" in s) return `every ${s.every} s`;
  if ("cron" in s) return `cron ${s.cron}${tz}`;
  const days = s.days ? ` on days ${s.days.join(",")}` : "";
  return `at ${s.times.join(", ")}${days}${tz}`;
}

/** The next slot by the schedule alone (the running agent also knows missed slots and manual runs). */
export function nextSlot(t: LoadedTask, timezone: string, now: number): number | null {
  if (!t.def.isEnable) return null;
  try {
    return compileSchedule(t.def.schedule, t.def.timezone ?? timezone).next(now);
  } catch {
    return null;
  }
}

interface Row {
  task: LoadedTask;
  nextRun: number | null;
  runs: TaskRunRow[];
}

function table(rows: readonly Row[]): string {
  const header = ["ID", "NAME", "SCHEDULE", "ENABLED", "NEXT RUN", "LAST RUN", "STATUS"];
  const cells = rows.map((r) => {
    const last = r.runs[0];
    return [
      r.task.def.id,
      r.task.def.name,
      scheduleText(r.task.def.schedule, r.task.def.timezone),
      r.task.def.isEnable ? "yes" : "no",
      r.nextRun === null ? "-" : formatLocalTime(r.nextRun),
      last ? formatLocalTime(last.started) : "never",
      last ? last.status : "",
    ];
  });
  return formatColumns(header, cells);
}

function runLines(r: Row, n: number): string {
  if (n === 0 || r.runs.length === 0) return "";
  const out = [`\n${r.task.def.id}: latest ${Math.min(n, r.runs.length)} run(s)`];
  for (const run of r.runs.slice(0, n)) {
    const took = run.ended === null ? "running" : `${run.ended - run.started} ms`;
    out.push(
      `  #${run.id}  ${formatLocalTime(run.started)}  ${run.trigger.padEnd(8)}  ${run.status.padEnd(7)}  ${took}`,
    );
    for (const a of run.actions as { index?: number; type?: string; ok?: boolean; error?: string }[]) {
      if (a.ok === false)
        out.push(`      action ${a.index ?? "?"} (${a.type ?? "?"}) failed: ${a.error ?? "unknown error"}`);
    }
  }
  return `${out.join("\n")}\n`;
}

function readRuns(file: string, tasks: readonly LoadedTask[], n: number): Map<string, TaskRunRow[]> {
  const out = new Map<string, TaskRunRow[]>();
  if (!existsSync(file)) return out;
  let db: Db | undefined;
  try {
    db = openDatabase(file, { readonly: true });
    if (!hasTable(db, "task_runs")) return out;
    const repo = new TasksRepo(db);
    for (const t of tasks) out.set(t.def.id, repo.runs(t.def.id, n));
    return out;
  } finally {
    db?.close();
  }
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    config: { type: "string", short: "c", default: DEFAULT_CONFIG },
    json: { type: "boolean", default: false },
    runs: { type: "string", default: "0" },
  });
  if (!parsed.ok) {
    io.stderr(`edge-agent tasks: ${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  const n = Number(v.runs);
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    io.stderr(`edge-agent tasks: --runs must be a whole number 0–1000, got '${v.runs}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  const cfgFile = v.config ?? DEFAULT_CONFIG;
  const loaded = await loadConfig(cfgFile, io.env, { cwd: io.cwd });
  const config = loaded.config;
  if (config === null) {
    // Task files are checked against the config (devices, MQTT, time zone): without it they cannot be.
    for (const p of loaded.problems) io.stderr(`${formatProblem(p)}\n`);
    io.stderr(`edge-agent tasks: ${cfgFile} is not valid (see edge-agent validate)\n`);
    return EXIT_FAILURE;
  }
  const secrets = [...new Set([...loaded.secrets, ...configSecrets(config)])];
  const { tasks, problems } = await validateTasksDir(config.tasksDir, await taskCheckContext(config));
  const dbFile = join(config.dataDir, DATABASE_FILE);
  let runs: Map<string, TaskRunRow[]>;
  try {
    runs = readRuns(dbFile, tasks, Math.max(1, n));
  } catch (err) {
    io.stderr(`edge-agent tasks: cannot read ${dbFile}: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  }
  const now = Date.now();
  const rows: Row[] = tasks.map((task) => ({
    task,
    nextRun: nextSlot(task, config.timezone, now),
    runs: runs.get(task.def.id) ?? [],
  }));
  const failed = hasErrors(problems);
  if (v.json) {
    const body = {
      tasks: rows.map((r) => ({
        ...r.task.def,
        file: r.task.file,
        nextRun: r.nextRun,
        runs: r.runs.slice(0, Math.max(1, n)),
      })),
      problems,
    };
    io.stdout(`${JSON.stringify(redact(body, secrets), null, 2)}\n`);
    return failed ? EXIT_FAILURE : EXIT_OK;
  }
  if (rows.length === 0) io.stdout(`No tasks in ${config.tasksDir}.\n`);
  else {
    io.stdout(redact(table(rows), secrets));
    for (const r of rows) io.stdout(redact(runLines(r, n), secrets));
  }
  printProblems(io, problems, secrets);
  return failed ? EXIT_FAILURE : EXIT_OK;
}

function printProblems(io: CliIO, problems: readonly Problem[], secrets: readonly string[]): void {
  if (problems.length === 0) return;
  io.stdout("\nProblems (a file with an error is not loaded; the running agent keeps its last good version):\n");
  for (const p of problems) {
    const tag = p.severity === "warning" ? "warning" : "error";
    io.stdout(`  ${tag}: ${redact(formatProblem(p), secrets)}\n`);
  }
}
