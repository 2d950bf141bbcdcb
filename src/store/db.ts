// Opens the agent's SQLite database: WAL so readers never block the writer, synchronous=FULL so a
// committed transaction survives a power cut, and the schema migrated to the latest version.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { AgentError } from "../core/errors.js";
import { migrations as defaultMigrations, type Migration } from "./migrations.js";

export type Db = Database.Database;

export interface OpenOptions {
  /** Open read-only (CLI inspection commands); no migration is run. */
  readonly?: boolean;
  migrations?: readonly Migration[];
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (!opts.readonly && file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new AgentError("EA_DB", `cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma("busy_timeout = 5000");
  if (opts.readonly) return db;
  db.pragma("journal_mode = WAL");
  // FULL: fsync the WAL on every commit; "committed" must mean "survives a power cut" (SPEC §7).
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  migrate(db, opts.migrations ?? defaultMigrations);
  return db;
}

export function migrate(db: Db, list: readonly Migration[]): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
