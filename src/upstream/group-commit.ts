// Group commit of delivery outcomes: an outcome is recorded together with the others that complete
// within ~1 ms (or at once when enough have finished), so a draining backlog pays one fsync per
// batch instead of one per item. Real timers on purpose: this batches I/O, it is not a delay the
// protocol depends on, so a test's manual clock must not hold it back.

export interface GroupCommitOptions<T> {
  /** Batch size that is committed on the next turn of the event loop instead of after ~1 ms. */
  flushAt: number;
  /** Records a batch (one transaction). */
  commit: (batch: T[]) => void;
  /** After a batch scheduled here was committed (the dispatcher refills from the database). */
  committed: () => void;
}

export class GroupCommit<T> {
  readonly #o: GroupCommitOptions<T>;
  #pending: T[] = [];
  #scheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: GroupCommitOptions<T>) {
    this.#o = opts;
  }

  add(item: T): void {
    this.#pending.push(item);
    if (this.#pending.length >= this.#o.flushAt) {
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
        this.#o.committed();
      });
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#scheduled) return;
      this.#flush();
      this.#o.committed();
    }, 1);
  }

  /** Commits what is pending now (shutdown). */
  flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#o.commit(batch);
  }
}
