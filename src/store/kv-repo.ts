// The kv table: small named values grouped by namespace (a hook's name for its ctx.kv). Values are
// stored as text; what they encode (JSON for hooks) is the caller's business. The outbox's
// bookkeeping lives in the same table but is queried by OutboxRepo beside its outbox statements.

import type { Db } from "./db.js";

export class KvRepo {
  readonly #get;
  readonly #set;
  readonly #del;
  readonly #keys;

  constructor(db: Db) {
    // Prepared once here (db.prepare also caches per SQL text, so several repos over one database
    // share the native statements and none is left for the garbage collector; see db.ts).
    this.#get = db.prepare<[string, string], { value: string }>("SELECT value FROM kv WHERE ns = ? AND key = ?");
    this.#set = db.prepare<[string, string, string]>(
      "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
    );
    this.#del = db.prepare<[string, string]>("DELETE FROM kv WHERE ns = ? AND key = ?");
    this.#keys = db.prepare<[string], { key: string }>("SELECT key FROM kv WHERE ns = ? ORDER BY key");
  }

  get(ns: string, key: string): string | undefined {
    return this.#get.get(ns, key)?.value;
  }

  set(ns: string, key: string, value: string): void {
    this.#set.run(ns, key, value);
  }

  /** True when the key existed. */
  delete(ns: string, key: string): boolean {
    return this.#del.run(ns, key).changes > 0;
  }

  /** The namespace's keys in ascending order. */
  keys(ns: string): string[] {
    return this.#keys.all(ns).map((r) => r.key);
  }
}
