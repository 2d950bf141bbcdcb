// Failed logins (wrong API token, wrong MQTT credentials) per source address: each one is made
// visible in the log without letting a flood of them flood the log, and repeated failures from one
// address are answered more and more slowly. Memory stays bounded whatever the attacker sends: the
// per-address table has a size cap and forgets addresses that went quiet.

import type { Clock, TimerHandle } from "./clock.js";
import type { Logger } from "./log.js";

export interface AuthFailureOptions {
  clock: Clock;
  log: Logger;
  /** What was refused, for the log line ("local API token", "embedded MQTT broker login"). */
  what: string;
  /** Failures from one address answered at once before slowing down (default 5). */
  freeFailures?: number;
  /** An address is forgotten after this long without a failure (default 60 s). */
  windowMs?: number;
  /** Delay of the first slowed answer; doubles with each further failure (default 250 ms). */
  baseDelayMs?: number;
  /** Longest delay (default 5 s). */
  maxDelayMs?: number;
  /** Suppressed failures are summarised at most this often (default 60 s). */
  summaryEveryMs?: number;
  /** Addresses tracked at once (default 1000); the one quiet the longest is forgotten first. */
  maxAddresses?: number;
  /** Log lines naming single addresses per summary period; the rest are one aggregate line (default 20). */
  maxLinesPerPeriod?: number;
  /** Slowed answers held at once, all addresses together (default 256); beyond it `fail` returns -1. */
  maxHeld?: number;
}

interface Entry {
  /** Failures since the address was (re)learned. */
  count: number;
  /** Failures not yet reported in a log line. */
  suppressed: number;
  last: number;
}

export class AuthFailures {
  readonly #o: Required<Omit<AuthFailureOptions, "clock" | "log" | "what">>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #what: string;
  readonly #byAddress = new Map<string, Entry>();
  readonly #held = new Map<TimerHandle, () => void>();
  #timer: TimerHandle | undefined;
  #linesThisPeriod = 0;
  /** Failures of addresses dropped from the full table before they were reported. */
  #unreported = 0;
  #unreportedAddresses = 0;
  #total = 0;

  constructor(opts: AuthFailureOptions) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#what = opts.what;
    this.#o = {
      freeFailures: opts.freeFailures ?? 5,
      windowMs: opts.windowMs ?? 60_000,
      baseDelayMs: opts.baseDelayMs ?? 250,
      maxDelayMs: opts.maxDelayMs ?? 5_000,
      summaryEveryMs: opts.summaryEveryMs ?? 60_000,
      maxAddresses: opts.maxAddresses ?? 1000,
      maxLinesPerPeriod: opts.maxLinesPerPeriod ?? 20,
      maxHeld: opts.maxHeld ?? 256,
    };
  }

  /** Failures seen since start (all addresses). */
  get total(): number {
    return this.#total;
  }

  /** Addresses currently tracked. */
  get tracked(): number {
    return this.#byAddress.size;
  }

  /**
   * Records one failure from `address` and returns how long to hold the refusal, in ms (0: answer
   * now), or -1 when too many refusals are already being held and this one should be cut short.
   */
  fail(address: string, detail: Record<string, unknown> = {}): number {
    this.#total++;
    const now = this.#clock.monotonic();
    let e = this.#byAddress.get(address);
    if (e && now - e.last > this.#o.windowMs) {
      if (e.suppressed > 0) {
        this.#linesThisPeriod++;
        this.#summary(address, e);
      }
      this.#byAddress.delete(address);
      e = undefined;
    }
    if (e) {
      // Re-insert so the Map's order stays "quiet the longest first" for eviction.
      this.#byAddress.delete(address);
      e.count++;
      e.last = now;
      e.suppressed++;
    } else {
      e = { count: 1, suppressed: 0, last: now };
      if (this.#byAddress.size >= this.#o.maxAddresses) this.#evictOldest();
      if (this.#linesThisPeriod < this.#o.maxLinesPerPeriod) {
        this.#linesThisPeriod++;
        this.#log.warn(
          { remote: address, ...detail },
          `${this.#what} refused from ${address} (further failures from this address are summarised ` +
            `at most every ${Math.round(this.#o.summaryEveryMs / 1000)} s)`,
        );
      } else e.suppressed = 1;
    }
    this.#byAddress.set(address, e);
    this.#timer ??= this.#clock.setInterval(() => this.#tick(), this.#o.summaryEveryMs);
    const over = e.count - this.#o.freeFailures;
    if (over <= 0) return 0;
    if (this.#held.size >= this.#o.maxHeld) return -1;
    return Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** Math.min(over - 1, 30));
  }

  /** Waits `ms` on the agent's clock; `stop()` releases every wait at once. */
  hold(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const h = this.#clock.setTimeout(() => {
        this.#held.delete(h);
        resolve();
      }, ms);
      this.#held.set(h, resolve);
    });
  }

  /** Reports what is still unreported and releases held answers. */
  stop(): void {
    this.#tick();
    this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
    for (const [h, resolve] of this.#held) {
      this.#clock.clearTimeout(h);
      resolve();
    }
    this.#held.clear();
  }

  #tick(): void {
    this.#linesThisPeriod = 0;
    const now = this.#clock.monotonic();
    let otherFailures = this.#unreported;
    let otherAddresses = this.#unreportedAddresses;
    this.#unreported = 0;
    this.#unreportedAddresses = 0;
    for (const [address, e] of this.#byAddress) {
      if (e.suppressed > 0) {
        if (this.#linesThisPeriod < this.#o.maxLinesPerPeriod) {
          this.#linesThisPeriod++;
          this.#summary(address, e);
        } else {
          otherFailures += e.suppressed;
          otherAddresses++;
          e.suppressed = 0;
        }
      }
      if (now - e.last > this.#o.windowMs) this.#byAddress.delete(address);
    }
    if (otherFailures > 0) {
      this.#log.warn(
        { failures: otherFailures, addresses: otherAddresses },
        `${this.#what} refused ${otherFailures} more times from ${otherAddresses === 1 ? "another address" : `${otherAddresses} other addresses`}`,
      );
    }
    // Lines written by this summary count against the next period's budget.
    if (this.#byAddress.size === 0) {
      this.#clock.clearInterval(this.#timer);
      this.#timer = undefined;
      this.#linesThisPeriod = 0;
    }
  }

  #summary(address: string, e: Entry): void {
    this.#log.warn(
      { remote: address, failures: e.suppressed, recent: e.count },
      `${this.#what} refused ${e.suppressed} more time${e.suppressed === 1 ? "" : "s"} from ${address} ` +
        `(${e.count} without a pause${e.count > this.#o.freeFailures ? "; answers are being slowed down" : ""})`,
    );
    e.suppressed = 0;
  }

  #evictOldest(): void {
    const first = this.#byAddress.entries().next();
    if (first.done) return;
    const [address, e] = first.value;
    if (e.suppressed > 0) {
      this.#unreported += e.suppressed;
      this.#unreportedAddresses++;
    }
    this.#byAddress.delete(address);
  }
}
