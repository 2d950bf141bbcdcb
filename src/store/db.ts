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
  pinNativeObjects(db);
  db.exec("PRAGMA busy_timeout = 5000");
  if (opts.readonly) return db;
  db.exec("PRAGMA journal_mode = WAL");
  // FULL: fsync the WAL on every commit; "committed" must mean "survives a power cut" (SPEC §7).
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db, opts.migrations ?? defaultMigrations);
  return db;
}

export function migrate(db: Db, list: readonly Migration[]): void {
  const current = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
    })();
  }
}

// better-sqlite3 12 wraps its Database and Statement objects in node::ObjectWrap. On Node 24.19 and
// later, an ObjectWrap finalized by a garbage collection that runs outside a JavaScript context
// (an idle-time GC) trips an assertion in node::RemoveEnvironmentCleanupHook and aborts the
// process. better-sqlite3 13 fixes it but needs Node 22, and sites still run Node 20. So no
// Database or Statement is ever left for the GC: statements are cached per SQL text for the life of
// their database, and every database stays reachable for the life of the process. The agent opens
// one database and prepares a bounded set of statements, so this costs a few kilobytes.
const pinnedDatabases = new Set<Db>();

function pinNativeObjects(db: Db): void {
  pinnedDatabases.add(db);
  const cache = new Map<string, Database.Statement>();
  const others: Database.Statement[] = [];
  const prepare = db.prepare.bind(db) as (...args: unknown[]) => Database.Statement;
  const pinned = (...args: unknown[]): Database.Statement => {
    if (args.length !== 1 || typeof args[0] !== "string") {
      // Calls with extra arguments: keep their statements reachable too. (db.pragma() prepares
      // through the native handle, bypassing this: the agent uses exec("PRAGMA …") instead.)
      const stmt = prepare(...args);
      if (others.length < 1024) others.push(stmt);
      return stmt;
    }
    const sql = args[0];
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  Object.defineProperty(db, "prepare", { value: pinned, configurable: true, writable: true });
}
