// `edge-agent outbox [--json] [-c FILE] [--db FILE]`: pending / delivered / dead-letter counts,
// oldest pending age, pause state and the last error per kind, read from <dataDir>/edge-agent.db
// opened read-only (safe next to a running agent). No database yet is not an error.
// `edge-agent outbox retry ID`: puts dead letter ID back in the queue (the one write this command
// makes; SQLite's WAL lets it run beside the agent, which picks the item up within a second).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { bestEffortDirs } from "../config/best-effort.js";
import { DATABASE_FILE, loadConfig, resolvePath } from "../config/load.js";
import { errorMessage } from "../core/errors.js";
import type { DeadLetterInfo, OutboxSummary } from "../core/ports.js";
import { type Db, openDatabase } from "../store/db.js";
import { OutboxRepo, type PauseState, type RequeueResult } from "../store/outbox-repo.js";
import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";

const USAGE =
  "Usage: edge-agent outbox [-c FILE] [--db FILE] [--json]\n       edge-agent outbox retry ID [-c FILE] [--db FILE] [--json]\n";

/** `edge-agent outbox --help`. */
export const HELP = `${USAGE}
Shows the upstream delivery queue of the agent's database: pending items per kind, the age of the
oldest, delivered / dead-letter / dropped counts, whether delivery is paused (credentials refused),
the last error per kind and the most recent dead letters with the platform's code and message.

  retry ID     put dead letter ID (the #number shown) back in the queue, due now. Later items of the
               same alarm that were dead-lettered only because this one had not gone are re-queued
               with it. A running agent sends it within a second; otherwise at its next start.

Options:
  -c, --config FILE   configuration file; the database is <dataDir>/edge-agent.db (default ./config/agent.json)
      --db FILE       the database file itself
      --json          machine-readable output
  -h, --help          show this help
`;

export interface OutboxReport extends OutboxSummary {
  skipped: number;
  pendingByKind: Record<string, number>;
  pausedTargets: PauseState[];
  recentDeadLetters: DeadLetterInfo[];
}

export function outboxReport(db: Db, now: number): OutboxReport {
  const repo = new OutboxRepo({ db });
  return {
    ...repo.summary(now),
    skipped: repo.counts().skipped,
    pendingByKind: repo.pendingByKind(),
    pausedTargets: repo.pausedTargets(),
    recentDeadLetters: repo.deadLetters(10),
  };
}

function age(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function formatReport(r: OutboxReport, now: number): string {
  const lines: string[] = [];
  const byKind = Object.entries(r.pendingByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  lines.push(`pending:      ${r.pending}${byKind ? ` (${byKind})` : ""}`);
  lines.push(`oldest:       ${r.pending > 0 ? `${age(r.oldestPendingAgeS)} ago` : "-"}`);
  lines.push(`delivered:    ${r.delivered}${r.skipped > 0 ? ` (+${r.skipped} skipped by beforeUpload)` : ""}`);
  lines.push(`dead-letter:  ${r.deadLetters}`);
  lines.push(`dropped:      ${r.dropped}`);
  if (r.pausedTargets.length === 0) lines.push("paused:       no");
  for (const p of r.pausedTargets) {
    lines.push(`PAUSED:       ${p.target} since ${age(Math.floor((now - p.since) / 1000))} ago: ${p.message}`);
  }
  const channels = Object.entries(r.notifications ?? {});
  if (channels.length > 0) {
    lines.push("notifications:");
    for (const [ch, c] of channels) {
      lines.push(`  ${ch.padEnd(19)} pending ${c.pending}, sent ${c.sent}, skipped ${c.skipped}, failed ${c.failed}`);
    }
  }
  const errs = Object.entries(r.lastErrors);
  if (errs.length > 0) {
    lines.push("last errors:");
    for (const [kind, e] of errs) {
      if (e) lines.push(`  ${kind.padEnd(19)} ${age(Math.floor((now - e.at) / 1000))} ago: ${e.message}`);
    }
  }
  if (r.recentDeadLetters.length > 0) {
    lines.push("recent dead letters:");
    for (const d of r.recentDeadLetters) {
      const answer = d.code !== undefined ? ` [code ${d.code}${d.msg ? `: ${d.msg}` : ""}]` : "";
      lines.push(`  #${d.seq} ${d.kind} alarm ${d.alarmId ?? "-"}${answer}: ${d.error ?? ""}`);
    }
    lines.push("  (after fixing the cause: edge-agent outbox retry ID)");
  }
  return `${lines.join("\n")}\n`;
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      config: { type: "string", short: "c", default: DEFAULT_CONFIG },
      db: { type: "string" },
      json: { type: "boolean", default: false },
    },
    { positionals: true },
  );
  if (!parsed.ok) {
    io.stderr(`edge-agent outbox: ${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  const [sub, ...extra] = parsed.positionals;
  let retrySeq: number | undefined;
  if (sub !== undefined) {
    if (sub !== "retry") {
      io.stderr(`edge-agent outbox: unknown subcommand '${sub}'\n${USAGE}`);
      return EXIT_USAGE;
    }
    const id = extra[0]?.replace(/^#/, "");
    if (id === undefined || extra.length > 1 || !/^[1-9]\d*$/.test(id)) {
      io.stderr(
        `edge-agent outbox retry: expected one dead-letter ID (the #number in 'edge-agent outbox'), got ${extra.length === 0 ? "none" : `'${extra.join(" ")}'`}\n${USAGE}`,
      );
      return EXIT_USAGE;
    }
    retrySeq = Number(id);
  }
  let file: string;
  let noUpstream = false;
  if (v.db !== undefined) file = resolvePath(v.db, io.cwd);
  else {
    const cfgFile = v.config ?? DEFAULT_CONFIG;
    const loaded = await loadConfig(cfgFile, io.env, { cwd: io.cwd });
    noUpstream = loaded.config !== null && loaded.config.upstream === undefined;
    let dataDir = loaded.config?.dataDir;
    if (dataDir === undefined) {
      // Inspecting the outbox must work from a shell without the service's secrets in the environment.
      dataDir = (await bestEffortDirs(cfgFile, io.cwd)).dataDir;
      io.stderr(`note: ${cfgFile} has problems (see edge-agent validate); reading the outbox from ${dataDir}\n`);
    }
    file = join(dataDir, DATABASE_FILE);
  }
  const now = Date.now();
  if (retrySeq !== undefined) return retry(file, retrySeq, now, v.json === true, io);
  if (!existsSync(file)) {
    if (v.json) io.stdout(`${JSON.stringify(emptyReport(), null, 2)}\n`);
    else io.stdout(`Outbox empty: there is no database at ${file} (the agent has not run with this dataDir).\n`);
    return EXIT_OK;
  }
  let db: Db;
  try {
    db = openDatabase(file, { readonly: true });
  } catch (err) {
    io.stderr(`edge-agent outbox: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  }
  try {
    const report = outboxReport(db, now);
    io.stdout(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, now));
    if (!v.json && noUpstream && report.pending > 0) {
      io.stdout('note: no "upstream" section in the config: alarm items stay pending until one is configured.\n');
    }
    return EXIT_OK;
  } catch (err) {
    io.stderr(`edge-agent outbox: cannot read ${file}: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  } finally {
    db.close();
  }
}

async function retry(file: string, seq: number, now: number, json: boolean, io: CliIO): Promise<number> {
  if (!existsSync(file)) {
    io.stderr(`edge-agent outbox retry: there is no database at ${file} (the agent has not run with this dataDir)\n`);
    return EXIT_FAILURE;
  }
  let db: Db;
  try {
    // Read-write: the database already exists, so this only applies migrations the agent would.
    db = openDatabase(file);
  } catch (err) {
    io.stderr(`edge-agent outbox retry: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  }
  let result: RequeueResult | undefined;
  try {
    result = new OutboxRepo({ db }).requeue(seq, now);
  } catch (err) {
    io.stderr(`edge-agent outbox retry: cannot update ${file}: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  } finally {
    db.close();
  }
  if (result === undefined) {
    io.stderr(
      `edge-agent outbox retry: #${seq} is not a dead letter in ${file} (it was delivered, is still pending, or was purged after the retention period); 'edge-agent outbox' lists the dead letters\n`,
    );
    return EXIT_FAILURE;
  }
  if (json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const r of result.requeued) io.stdout(`re-queued #${r.seq} ${r.kind} (alarm ${r.alarmId ?? "-"})\n`);
  io.stdout("a running agent sends it within a second; otherwise it goes at the next start\n");
  return EXIT_OK;
}

function emptyReport(): OutboxReport {
  return {
    pending: 0,
    delivered: 0,
    deadLetters: 0,
    oldestPendingAgeS: 0,
    dropped: 0,
    paused: false,
    lastErrors: {},
    lastDeadLetter: null,
    skipped: 0,
    pendingByKind: {},
    pausedTargets: [],
    recentDeadLetters: [],
  };
}
