// The one source of time for the agent. Everything that waits or stamps takes a Clock,
// so tests drive time with ManualClock instead of sleeping.

export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds, for durations (never jumps with NTP). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as ReturnType<typeof setTimeout>);
  },
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => {
    if (h !== undefined) clearInterval(h as ReturnType<typeof setInterval>);
  },
};

interface ManualTimer {
  id: number;
  at: number;
  every: number | undefined;
  fn: () => void;
}

/** A clock that only moves when told to: `advance(ms)` fires due timers in order. */
export class ManualClock implements Clock {
  #now: number;
  #mono = 0;
  #seq = 0;
  #timers = new Map<number, ManualTimer>();

  constructor(startEpochMs = Date.UTC(2026, 0, 1)) {
    this.#now = startEpochMs;
  }

  now(): number {
    return this.#now;
  }
  monotonic(): number {
    return this.#mono;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { id, at: this.#mono + Math.max(0, ms), every: undefined, fn });
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    const every = Math.max(1, ms);
    this.#timers.set(id, { id, at: this.#mono + every, every, fn });
    return { id };
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h && typeof h === "object" && "id" in h && typeof h.id === "number") this.#timers.delete(h.id);
  }
  clearInterval(h: TimerHandle | undefined): void {
    this.clearTimeout(h);
  }
  /** Sets the wall clock without moving timers (NTP step, DST tests). */
  setWallTime(epochMs: number): void {
    this.#now = epochMs;
  }
  /** Moves time forward, firing every timer that falls due, in due order. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers.values()) if (t.at <= target && (!next || t.at < next.at)) next = t;
      if (!next) break;
      this.#now += next.at - this.#mono;
      this.#mono = next.at;
      if (next.every !== undefined) next.at += next.every;
      else this.#timers.delete(next.id);
      next.fn();
    }
    this.#now += target - this.#mono;
    this.#mono = target;
  }
  pendingTimers(): number {
    return this.#timers.size;
  }
}
