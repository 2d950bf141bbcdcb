// The day_stats table: one row per closed local day and device with that device's metrics as JSON,
// and per day one row with device_id '' holding the quotas' usage (so a day with no reading still
// exists). The row with date 'open' holds the running day's accumulators, written periodically, so
// a restart in the middle of a day keeps the day.

import type { Db } from "./db.js";

/** Marker date of the running day's accumulators. */
const OPEN = "open";

interface Row {
  device_id: string;
  doc: string;
}

function prepare(db: Db) {
  return {
    put: db.prepare<[string, string, string]>(
      `INSERT INTO day_stats (date, device_id, doc) VALUES (?, ?, ?)
       ON CONFLICT(date, device_id) DO UPDATE SET doc = excluded.doc`,
    ),
    day: db.prepare<[string], Row>("SELECT device_id, doc FROM day_stats WHERE date = ? ORDER BY device_id"),
    latest: db.prepare<[string], { date: string | null }>("SELECT MAX(date) AS date FROM day_stats WHERE date <> ?"),
    prune: db.prepare<[string, string]>("DELETE FROM day_stats WHERE date <> ? AND date <= ?"),
    dates: db.prepare<[string], { date: string }>("SELECT DISTINCT date FROM day_stats WHERE date <> ? ORDER BY date"),
  };
}

export class DayStatsRepo {
  readonly #s: ReturnType<typeof prepare>;
  readonly #tx;

  constructor(db: Db) {
    this.#s = prepare(db);
    this.#tx = db.transaction((fn: () => void) => fn());
  }

  /** The running day's accumulators as written by saveOpen, or undefined. */
  loadOpen(): string | undefined {
    return this.#s.day.get(OPEN)?.doc;
  }

  saveOpen(doc: string): void {
    this.#s.put.run(OPEN, "", doc);
  }

  /**
   * Stores a closed day (one doc per device, '' for the quotas), deletes the days on or before
   * `pruneThrough`, and writes the next day's accumulators, all in one transaction.
   */
  closeDay(
    date: string,
    rows: ReadonlyArray<readonly [deviceId: string, doc: string]>,
    pruneThrough: string,
    open: string,
  ): void {
    this.#tx(() => {
      for (const [device, doc] of rows) this.#s.put.run(date, device, doc);
      this.#s.prune.run(OPEN, pruneThrough);
      this.#s.put.run(OPEN, "", open);
    });
  }

  /** The rows of a closed day, by device id ('' first: the quotas); empty when the day is unknown. */
  day(date: string): { deviceId: string; doc: string }[] {
    if (date === OPEN) return [];
    return this.#s.day.all(date).map((r) => ({ deviceId: r.device_id, doc: r.doc }));
  }

  /** The latest closed day, or undefined when none is stored. */
  latestDate(): string | undefined {
    return this.#s.latest.get(OPEN)?.date ?? undefined;
  }

  /** Every stored closed day, oldest first. */
  dates(): string[] {
    return this.#s.dates.all(OPEN).map((r) => r.date);
  }
}
