// Tells the owner of a watched directory (hooks, tasks) when to re-read it: fs.watch events (debounced,
// an editor's save is several events) and a periodic timer that backs fs.watch up where it misses
// events (network file systems, a directory that did not exist yet, a watch that failed). WatchedScans
// adds what the loaders of watched files share: one re-read at a time, and a lock with their writers.

import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
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

/**
 * A watched directory's re-reads, for the loaders that keep a last-good version of its files (tasks,
 * recipients): one scan at a time, requests during a scan folded into one more, and a lock that
 * the local API's writes share with the scans so a write and a re-read never interleave.
 */
export class WatchedScans {
  readonly #watch: DirWatch;
  readonly #scanOnce: () => Promise<void>;
  readonly #log: Logger;
  readonly #what: string;
  #lock: Promise<unknown> = Promise.resolve();
  #running = false;
  #scan: Promise<void> | null = null;
  #again = false;

  constructor(o: Omit<DirWatchOptions, "onChange"> & { scanOnce: () => Promise<void> }) {
    this.#scanOnce = o.scanOnce;
    this.#log = o.log;
    this.#what = o.what;
    this.#watch = new DirWatch({ ...o, onChange: () => this.request() });
  }

  get running(): boolean {
    return this.#running;
  }

  /** Reads once, then watches. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.exclusive(this.#scanOnce);
    this.#watch.open();
    this.#watch.startPeriodic();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#watch.close();
    await this.#scan?.catch(() => undefined);
  }

  /** Reads now and applies what changed (tests, and after an edit that must show at once). */
  async rescan(): Promise<void> {
    if (!this.#running) {
      await this.exclusive(this.#scanOnce);
      return;
    }
    this.request();
    await this.#scan;
  }

  /** Runs `fn` alone against the scans and other writers (the local API). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** A re-read is due: started now, or once more after the one running. */
  request(): void {
    if (!this.#running) return;
    if (this.#scan !== null) {
      this.#again = true;
      return;
    }
    this.#scan = (async () => {
      try {
        do {
          this.#again = false;
          await this.exclusive(this.#scanOnce);
        } while (this.#again && this.#running);
      } catch (err) {
        this.#log.error({ err }, `re-reading the ${this.#what} failed`);
      } finally {
        this.#scan = null;
      }
    })();
    this.#watch.ensure();
  }
}

/** A file modified this recently is re-read even when its stamp is unchanged (see fileStamp). */
export const RECENT_MS = 3000;

/** What tells a watched file changed without reading it. */
export interface FileStamp {
  /** mtime, size and inode: a change of any of them is a change of the file. */
  signature: string;
  size: number;
  /** Coarse mtime (1–2 s on some filesystems) can hide a same-size rewrite: a fresh file is re-read. */
  recent: boolean;
}

/** The stamp of a regular file, null for anything else; rejects as stat does (a file deleted meanwhile). */
export async function fileStamp(path: string, now: number): Promise<FileStamp | null> {
  const st = await stat(path);
  if (!st.isFile()) return null;
  return {
    signature: `${st.mtimeMs}:${st.size}:${st.ino}`,
    size: st.size,
    recent: Math.abs(now - st.mtimeMs) < RECENT_MS,
  };
}
