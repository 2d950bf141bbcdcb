// Batches alarm changes into one SQLite transaction per batch. A failed commit keeps the batch in
// memory, in order, and retries it with backoff — no change is ever dropped. When the database
// rejects one change (not the disk), the others are committed one by one so a poison change does
// not hold back every alarm; the rejected change and the later ones of the same record stay queued.

import type { Clock, TimerHandle } from "../core/clock.js";
import { errFields, errorMessage } from "../core/errors.js";
import type { Logger } from "../core/log.js";

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;

interface Counter {
  inc(by?: number): void;
}

export interface CommitQueueOptions<T> {
  clock: Clock;
  log: Logger;
  /** Longest wait before a queued item is committed; 0 = at the next turn of the event loop. */
  delayMs: number;
  /** Queued items that trigger a commit without waiting for the delay. */
  maxBatch: number;
  /** The record an item belongs to: later items of a rejected record wait behind it. */
  keyOf(item: T): string;
  /** Runs after the items committed, in order. */
  afterCommit(items: readonly T[]): void;
  metrics: { failures: Counter; batches: Counter; pending: { set(v: number): void } };
}

export class CommitQueue<T> {
  readonly #o: CommitQueueOptions<T>;
  #tx: ((batch: readonly T[]) => void) | null = null;
  #queue: T[] = [];
  #scheduled = false;
  #timer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #retryMs = 0;
  #running = false;

  constructor(opts: CommitQueueOptions<T>) {
    this.#o = opts;
  }

  /** Queued items, oldest first (read-only view). */
  get items(): readonly T[] {
    return this.#queue;
  }

  start(tx: (batch: readonly T[]) => void): void {
    this.#tx = tx;
    this.#running = true;
    if (this.#queue.length > 0) this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#o.clock.clearTimeout(this.#timer);
    this.#o.clock.clearTimeout(this.#retryTimer);
    this.#timer = undefined;
    this.#retryTimer = undefined;
  }

  push(item: T): void {
    this.#queue.push(item);
    this.#o.metrics.pending.set(this.#queue.length);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#running || this.#retryTimer !== undefined) return;
    if (this.#queue.length >= this.#o.maxBatch) {
      if (this.#timer !== undefined) {
        this.#o.clock.clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#runScheduled);
      }
      return;
    }
    if (this.#scheduled || this.#timer !== undefined) return;
    if (this.#o.delayMs === 0) {
      this.#scheduled = true;
      setImmediate(this.#runScheduled);
    } else {
      this.#timer = this.#o.clock.setTimeout(this.#runTimer, this.#o.delayMs);
    }
  }

  readonly #runScheduled = (): void => {
    this.#scheduled = false;
    if (this.#retryTimer === undefined) this.commit();
  };

  readonly #runTimer = (): void => {
    this.#timer = undefined;
    if (this.#retryTimer === undefined) this.commit();
  };

  readonly #runRetry = (): void => {
    this.#retryTimer = undefined;
    this.commit();
  };

  /** Commits the queue in one transaction. Returns the error when it failed (what failed is kept). */
  commit(): unknown {
    const batch = this.#queue;
    const tx = this.#tx;
    if (batch.length === 0 || tx === null) return undefined;
    try {
      tx(batch);
    } catch (err) {
      if (batch.length === 1 || isStorageError(err)) return this.#failed(err, batch.length);
      const blocked = new Set<string>();
      const committed: T[] = [];
      const kept: T[] = [];
      let lastErr: unknown = err;
      for (const p of batch) {
        const id = this.#o.keyOf(p);
        if (!blocked.has(id)) {
          try {
            tx([p]);
            committed.push(p);
            continue;
          } catch (e) {
            lastErr = e;
            blocked.add(id);
          }
        }
        kept.push(p);
      }
      this.#queue = kept;
      this.#o.metrics.pending.set(kept.length);
      if (committed.length > 0) {
        this.#o.metrics.batches.inc(committed.length);
        this.#o.afterCommit(committed);
      }
      if (kept.length === 0) return this.#succeeded(0);
      this.#o.log.error(
        { ...errFields(lastErr, "EA_DB"), alarms: [...blocked] },
        `alarm change(s) rejected: ${errorMessage(lastErr)}; kept and retried, other alarms go on`,
      );
      return this.#failed(lastErr, kept.length);
    }
    this.#queue = [];
    this.#succeeded(batch.length);
    this.#o.metrics.batches.inc();
    this.#o.afterCommit(batch);
    return undefined;
  }

  #succeeded(committed: number): undefined {
    if (this.#retryMs !== 0) this.#o.log.warn({ committed }, "alarm transactions succeed again");
    this.#retryMs = 0;
    this.#o.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#o.metrics.pending.set(this.#queue.length);
    return undefined;
  }

  #failed(err: unknown, pending: number): unknown {
    this.#o.metrics.failures.inc();
    this.#retryMs = this.#retryMs === 0 ? RETRY_MIN_MS : Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    this.#o.log.error(
      { ...errFields(err, "EA_DB"), pending, retryInMs: this.#retryMs },
      `ALARMS NOT PERSISTED: the database refused the alarm transaction (${errorMessage(err)}); ` +
        `${pending} change(s) kept in memory and retried — check free disk space and permissions of the data directory`,
    );
    this.#o.clock.clearTimeout(this.#retryTimer);
    if (this.#running) this.#retryTimer = this.#o.clock.setTimeout(this.#runRetry, this.#retryMs);
    return err ?? new Error("transaction failed");
  }
}

/** Errors of the storage itself (disk full, I/O, locks): the whole batch waits, nothing is isolated. */
function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|NOMEM|NOLFS|CORRUPT|NOTADB|PERM|AUTH|PROTOCOL)/.test(code)
  );
}
