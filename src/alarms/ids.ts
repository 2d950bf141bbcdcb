// Local alarm ids: 12 hex digits of epoch ms, 4 of a per-ms counter, 8 random — 24 lowercase hex
// characters that sort as strings in creation order. Monotonic even when the wall clock steps back
// (NTP, RTC without battery): the id time never goes below the last one issued or seeded.

import { randomFillSync } from "node:crypto";

const COUNTER_MAX = 0xffff;
// Random bytes drawn in blocks: one getrandom call per 256 ids instead of one per id.
const POOL = Buffer.alloc(1024);
let poolAt = POOL.length;

function random32Hex(): string {
  if (poolAt + 4 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const s = POOL.toString("hex", poolAt, poolAt + 4);
  poolAt += 4;
  return s;
}

export class AlarmIdGenerator {
  #lastMs = 0;
  #counter = 0;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Continues after an id already issued (the newest in the database), so restarts stay monotonic. */
  seed(lastId: string | null | undefined): void {
    if (!lastId || !/^[0-9a-f]{24}$/.test(lastId)) return;
    const ms = Number.parseInt(lastId.slice(0, 12), 16);
    const counter = Number.parseInt(lastId.slice(12, 16), 16);
    if (ms > this.#lastMs || (ms === this.#lastMs && counter > this.#counter)) {
      this.#lastMs = ms;
      this.#counter = counter;
    }
  }

  next(): string {
    const now = Math.max(0, Math.floor(this.#now()));
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#counter = 0;
    } else if (this.#counter < COUNTER_MAX) {
      this.#counter++;
    } else {
      // 65,536 ids in one millisecond (or a clock stuck in the past): borrow the next millisecond.
      this.#lastMs++;
      this.#counter = 0;
    }
    return this.#lastMs.toString(16).padStart(12, "0") + this.#counter.toString(16).padStart(4, "0") + random32Hex();
  }
}

/** The epoch ms encoded in an alarm id (for diagnostics), or null when it is not one of ours. */
export function alarmIdTime(id: string): number | null {
  return /^[0-9a-f]{24}$/.test(id) ? Number.parseInt(id.slice(0, 12), 16) : null;
}
