// The quota_usage table: one row per quota and period with the usage summed so far, and on the
// current period's row the counter baseline (last value and its timestamp) the next reading is
// measured from. Closed periods keep their usage and crossing level with no baseline.

import type { Db } from "./db.js";

export interface QuotaUsageRow {
  periodStart: number;
  usage: number;
  lastValue: number | null;
  lastTs: number | null;
  /** Highest threshold crossed in the period: 0 none, 1 pre-warning, 2 limit. */
  crossed: number;
}

interface Row {
  period_start: number;
  usage: number;
  last_value: number | null;
  last_ts: number | null;
  crossed: number;
}

function prepare(db: Db) {
  return {
    latest: db.prepare<[string], Row>(
      "SELECT period_start, usage, last_value, last_ts, crossed FROM quota_usage WHERE quota_id = ? ORDER BY period_start DESC LIMIT 1",
    ),
    put: db.prepare<[string, number, number, number | null, number | null, number]>(
      `INSERT INTO quota_usage (quota_id, period_start, usage, last_value, last_ts, crossed) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(quota_id, period_start) DO UPDATE SET usage = excluded.usage, last_value = excluded.last_value,
         last_ts = excluded.last_ts, crossed = excluded.crossed`,
    ),
    add: db.prepare<[string, number, number]>(
      `INSERT INTO quota_usage (quota_id, period_start, usage, crossed) VALUES (?, ?, ?, 0)
       ON CONFLICT(quota_id, period_start) DO UPDATE SET usage = usage + excluded.usage`,
    ),
  };
}

export class QuotasRepo {
  readonly #db: Db;
  // Prepared at first use, once (and cached per SQL text by db.ts, so no statement is left for the
  // garbage collector): constructing the repository touches no table.
  #stmts: ReturnType<typeof prepare> | null = null;
  readonly #tx;

  constructor(db: Db) {
    this.#db = db;
    this.#tx = db.transaction((fn: () => void) => fn());
  }

  get #s(): ReturnType<typeof prepare> {
    if (this.#stmts === null) this.#stmts = prepare(this.#db);
    return this.#stmts;
  }

  /** The quota's most recent period row (where a restart resumes), or undefined if it never counted. */
  latest(quotaId: string): QuotaUsageRow | undefined {
    const r = this.#s.latest.get(quotaId);
    if (r === undefined) return undefined;
    return {
      periodStart: r.period_start,
      usage: r.usage,
      lastValue: r.last_value,
      lastTs: r.last_ts,
      crossed: r.crossed,
    };
  }

  /** Sets a period's usage, baseline and crossing level (a closed period passes a null baseline). */
  put(quotaId: string, row: QuotaUsageRow): void {
    this.#s.put.run(quotaId, row.periodStart, row.usage, row.lastValue, row.lastTs, row.crossed);
  }

  /** Adds usage to a period (creating its row): a gap's share attributed to an earlier period. */
  add(quotaId: string, periodStart: number, amount: number): void {
    this.#s.add.run(quotaId, periodStart, amount);
  }

  /** Runs fn in one transaction: all of its writes are committed, or none if it throws. */
  transaction(fn: () => void): void {
    this.#tx(fn);
  }
}
