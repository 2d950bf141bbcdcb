// The per-loop call (docs/hooks.md, onTick): every hooks.tickIntervalMs each running hook that
// defines onTick is called, through the same containment as every hook call (deadline, failure
// counting). A hook whose previous onTick has not settled is skipped for that tick and the skip is
// counted: a slow hook never piles calls up, and never delays another hook's tick. A call abandoned
// after hooks.timeoutMs still counts as running until the hook's own promise settles.
// The timer runs only while some running hook defines onTick.

import type { Clock, TimerHandle } from "../core/clock.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { type AnyFn, type CallTarget, type HookCaller, isThenable } from "./call.js";
import type { Hook, HookContext } from "./types.js";

/** What a tick needs of a loaded hook. */
export interface TickSlot extends CallTarget {
  hook: Hook | null;
  ctx: HookContext;
  methods: ReadonlySet<string>;
}

interface TickState {
  skipped: number;
  skipCounter: { inc(by?: number): void };
}

export interface HookTickerOptions {
  clock: Clock;
  caller: HookCaller;
  metrics: MetricsRegistry;
  /** 0 turns ticking off. */
  intervalMs: number;
}

export class HookTicker {
  readonly #o: HookTickerOptions;
  readonly #skippedTotal: Counter;
  #slots: TickSlot[] = [];
  /** Per hook name: survives a reload, so the skip count on /hooks/list does not restart. */
  readonly #states = new Map<string, TickState>();
  /** Loaded versions whose onTick has not settled (a reloaded hook's new version ticks at once). */
  readonly #busy = new WeakSet<TickSlot>();
  #timer: TimerHandle | undefined;
  #running = false;
  readonly #tick = (): void => this.tick();

  constructor(o: HookTickerOptions) {
    this.#o = o;
    this.#skippedTotal = o.metrics.counter(
      "edge_hook_ticks_skipped_total",
      "onTick calls skipped because the hook's previous onTick was still running, by hook",
    );
  }

  /** Starts ticking (when some hook defines onTick and the interval is not 0). */
  start(): void {
    this.#running = true;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    this.#disarm();
  }

  /** The running hooks changed: tick those that define onTick, in load order. */
  rebuild(running: readonly TickSlot[]): void {
    this.#slots = running.filter((s) => s.methods.has("onTick"));
    for (const s of this.#slots) this.#stateOf(s.name);
    if (this.#slots.length > 0) this.#arm();
    else this.#disarm();
  }

  /** Skipped onTick calls of a hook (undefined when it never had onTick). */
  skipped(name: string): number | undefined {
    return this.#states.get(name)?.skipped;
  }

  /** One tick: calls every onTick hook that is not still busy with the previous one. */
  tick(): void {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as TickSlot;
      const st = this.#stateOf(slot.name);
      if (this.#busy.has(slot)) {
        st.skipped++;
        st.skipCounter.inc();
        continue;
      }
      const hook = slot.hook;
      const fn = hook?.onTick as AnyFn | undefined;
      if (typeof fn !== "function") continue;
      let inner: unknown;
      this.#busy.add(slot);
      const res = this.#o.caller.call(slot, "onTick", () => {
        inner = fn.call(hook, slot.ctx);
        return inner;
      });
      if (!isThenable(inner)) {
        this.#busy.delete(slot);
        continue;
      }
      const done = (): void => {
        this.#busy.delete(slot);
      };
      (inner as PromiseLike<unknown>).then(done, done);
      // The caller already contains the rejection and the timeout; nothing more to wait for here.
      void res;
    }
  }

  #stateOf(name: string): TickState {
    let st = this.#states.get(name);
    if (st === undefined) {
      st = { skipped: 0, skipCounter: this.#skippedTotal.bind({ hook: name }) };
      this.#states.set(name, st);
    }
    return st;
  }

  #arm(): void {
    if (!this.#running || this.#timer !== undefined || this.#slots.length === 0 || this.#o.intervalMs <= 0) return;
    this.#timer = this.#o.clock.setInterval(this.#tick, this.#o.intervalMs);
  }

  #disarm(): void {
    this.#o.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
