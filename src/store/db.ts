// Opens the agent's SQLite database: WAL so readers never block the writer, synchronous=FULL so a
// committed transaction survives a power cut, and the schema migrated to the latest version.

import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
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
    if (!opts.readonly && file !== ":memory:") preparePrivateFiles(file);
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new AgentError("EA_DB", `cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  pinNativeObjects(db);
  db.exec("PRAGMA busy_timeout = 5000");
  if (opts.readonly) return db;
  db.exec("PRAGMA journal_mode = WAL");
  // FULL: fsync the WAL on every commit; "committed" must mean "survives a power cut" (docs/upstream.md).
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db, opts.migrations ?? defaultMigrations);
  if (file !== ":memory:") for (const suffix of DB_SUFFIXES) restrict(file + suffix, PRIVATE_FILE);
  return db;
}

// The database holds alarms, outbox payloads and hook data: readable by the agent's user only,
// whatever the umask of `npm start` or a container (typically 022, which would make it 0644).
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
const DB_SUFFIXES = ["", "-wal", "-shm", "-journal"];

/**
 * Creates the data directory 0700 (only the levels this call creates: an existing directory such
 * as /tmp or a mounted volume is never changed) and the database file 0600 before SQLite opens it;
 * SQLite then gives its -wal and -shm files the database file's mode. An existing database from an
 * older version is tightened too.
 */
function preparePrivateFiles(file: string): void {
  const dir = dirname(file);
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  if (first !== undefined) {
    let d = first;
    restrict(d, PRIVATE_DIR);
    for (const part of relative(first, dir)
      .split(sep)
      .filter((p) => p !== "")) {
      d = join(d, part);
      restrict(d, PRIVATE_DIR);
    }
  }
  closeSync(openSync(file, "a", PRIVATE_FILE));
  restrict(file, PRIVATE_FILE);
}

/** chmod that tolerates a missing file and a file owned by another user (nothing to tighten then). */
function restrict(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "EPERM") throw err;
  }
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

/** Whether table `name` exists: a read-only open runs no migration, so a database the agent never started with lacks it. */
export function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
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
