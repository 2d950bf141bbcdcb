// Tells the owner of a watched directory (hooks, tasks) when to re-read it: fs.watch events (debounced,
// an editor's save is several events) and a periodic timer that backs fs.watch up where it misses
// events (network file systems, a directory that did not exist yet, a watch that failed).

import { type FSWatcher, watch } from "node:fs";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/log.js";

export interface DirWatchOptions {
  dir: string;
  /** What the directory holds, for log lines ("hooks", "tasks"). */
  what: string;
  clock: Clock;
  log: Logger;
  /** Period of the backup rescan. */
  periodMs: number;
  /** A rescan is due. */
  onChange: () => void;
}

/** Debounce of fs.watch events. */
const DEBOUNCE_MS = 100;

export class DirWatch {
  readonly #o: DirWatchOptions;
  #watcher: FSWatcher | null = null;
  #timer: TimerHandle | undefined;
  #debounce: TimerHandle | undefined;
  #open = false;

  constructor(o: DirWatchOptions) {
    this.#o = o;
  }

  /** Watches the directory (if it exists yet; see `ensure`). */
  open(): void {
    this.#open = true;
    this.ensure();
  }

  /** Starts the periodic rescan. */
  startPeriodic(): void {
    if (!this.#open) return;
    this.#o.clock.clearInterval(this.#timer);
    this.#timer = this.#o.clock.setInterval(() => this.#fire(0), this.#o.periodMs);
  }

  /** Watches the directory if it is not watched yet (it may have appeared after `open`). */
  ensure(): void {
    if (this.#watcher !== null || !this.#open) return;
    const { dir, log, what } = this.#o;
    try {
      this.#watcher = watch(dir, () => this.#fire(DEBOUNCE_MS));
      this.#watcher.on("error", (err) => {
        log.warn({ err, dir }, `${what} directory watch failed; relying on the periodic rescan`);
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch (err) {
      // A missing directory is fine: the periodic rescan picks it up when it appears.
      log.debug({ err, dir }, `${what} directory not watched`);
    }
  }

  close(): void {
    this.#open = false;
    this.#o.clock.clearInterval(this.#timer);
    this.#o.clock.clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = null;
  }

  #fire(delayMs: number): void {
    if (!this.#open) return;
    if (delayMs > 0) {
      this.#o.clock.clearTimeout(this.#debounce);
      this.#debounce = this.#o.clock.setTimeout(() => this.#fire(0), delayMs);
      return;
    }
    this.#o.onChange();
  }
}
