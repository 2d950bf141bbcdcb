// Observer delivery. The EventBus listeners only enqueue into a bounded FIFO per hook (the emitter is
// the ingestion hot path and never waits for a hook); a per-hook drain loop calls the hook later, so
// each hook sees events in the order they happened and a slow hook only fills its own queue. An event
// is subscribed to only while some running hook handles it, so an unused event costs nothing.

import type { EventBus, EventName } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { methodId } from "./activity.js";
import type { AnyFn, CallTarget, HookCaller } from "./call.js";
import { BoundedFifo } from "./fifo.js";
import { type Hook, type HookContext, OBSERVER_METHODS, type ObserverMethod } from "./types.js";

const EVENT_OF: Record<ObserverMethod, EventName> = {
  onReading: "reading",
  onRawMessage: "rawMessage",
  onAlarmCreated: "alarmCreated",
  onAlarmResolved: "alarmResolved",
  onDeviceStatusChanged: "deviceStatusChanged",
  onQuotaExceeded: "quotaExceeded",
  onWorkOrderCreated: "workOrderCreated",
  onWorkOrderCompleted: "workOrderCompleted",
  onDayClosed: "dayClosed",
  onNotificationSent: "notificationSent",
  onNotificationFailed: "notificationFailed",
};

interface QueueItem {
  method: ObserverMethod;
  /** HookActivity id of `method`. */
  mid: number;
  args: unknown[];
}

/** A hook's event queue and its counters (part of the manager's slot). */
export interface ObserverQueue {
  queue: BoundedFifo<QueueItem>;
  draining: boolean;
  dropped: number;
  dropCounter: { inc(by?: number): void };
}

/** What delivery needs of a loaded hook. */
export interface ObserverSlot extends CallTarget, ObserverQueue {
  hook: Hook | null;
  ctx: HookContext;
  methods: ReadonlySet<string>;
  state: string;
}

/** Synchronous hook calls made in one go before the drain yields to the event loop. */
const SYNC_BATCH = 256;

export interface ObserverTablesOptions {
  events: EventBus;
  log: Logger;
  metrics: MetricsRegistry;
  caller: HookCaller;
  queueSize: number;
}

export class ObserverTables {
  readonly #o: ObserverTablesOptions;
  readonly #tables = new Map<ObserverMethod, ObserverSlot[]>();
  readonly #unsubscribe = new Map<ObserverMethod, () => void>();
  readonly #droppedTotal: Counter;
  readonly #mids = Object.fromEntries(OBSERVER_METHODS.map((m) => [m, methodId(m)])) as Record<ObserverMethod, number>;

  constructor(o: ObserverTablesOptions) {
    this.#o = o;
    this.#droppedTotal = o.metrics.counter(
      "edge_hook_dropped_total",
      "Events dropped because a hook's queue was full, by hook",
    );
  }

  /** An empty queue for a newly loaded hook. */
  queueFor(name: string): ObserverQueue {
    return {
      queue: new BoundedFifo(this.#o.queueSize),
      draining: false,
      dropped: 0,
      dropCounter: this.#droppedTotal.bind({ hook: name }),
    };
  }

  /** Recomputes who gets what from the running hooks; subscribes to an event only while some hook handles it. */
  rebuild(running: readonly ObserverSlot[]): void {
    for (const m of OBSERVER_METHODS) {
      const list = running.filter((s) => s.methods.has(m));
      this.#tables.set(m, list);
      const sub = this.#unsubscribe.get(m);
      if (list.length > 0 && sub === undefined) {
        const listener = (...args: unknown[]): void => this.#dispatch(m, args);
        this.#unsubscribe.set(m, this.#o.events.on(EVENT_OF[m], listener as never));
      } else if (list.length === 0 && sub !== undefined) {
        sub();
        this.#unsubscribe.delete(m);
      }
    }
  }

  /** Hot path (called synchronously by EventBus.emit): enqueue only. */
  #dispatch(method: ObserverMethod, args: unknown[]): void {
    const list = this.#tables.get(method);
    if (list === undefined) return;
    const item: QueueItem = { method, mid: this.#mids[method], args };
    for (let i = 0; i < list.length; i++) {
      const slot = list[i] as ObserverSlot;
      if (!slot.queue.push(item)) {
        slot.dropped++;
        slot.dropCounter.inc();
        if (slot.dropped === 1 || slot.dropped % 1000 === 0) {
          this.#o.log.warn(
            { hook: slot.name, dropped: slot.dropped, queueSize: this.#o.queueSize },
            `hook ${slot.name} is too slow: its queue is full and events are dropped`,
          );
        }
      } else this.kick(slot);
    }
  }

  /** Starts draining a running hook's queue if it has events and no drain is under way. */
  kick(slot: ObserverSlot): void {
    if (slot.draining || slot.queue.size === 0 || slot.state !== "running") return;
    slot.draining = true;
    // Never run hook code inside the emitter's call: start the drain on a later turn.
    setImmediate(() => {
      this.#drain(slot).catch((err: unknown) => this.#o.log.error({ err, hook: slot.name }, "hook drain failed"));
    });
  }

  async #drain(slot: ObserverSlot): Promise<void> {
    let syncRun = 0;
    try {
      while (slot.state === "running" && slot.queue.size > 0) {
        const item = slot.queue.shift() as QueueItem;
        const hook = slot.hook;
        const fn = hook?.[item.method] as AnyFn | undefined;
        if (typeof fn !== "function") continue;
        const res = this.#o.caller.observe(slot, item.method, item.mid, fn, hook as Hook, item.args, slot.ctx);
        if (res !== undefined) {
          syncRun = 0;
          await res;
        } else if (++syncRun >= SYNC_BATCH) {
          // A hook that answers synchronously is drained in batches; yield so sources and timers run.
          syncRun = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    } finally {
      slot.draining = false;
    }
    this.kick(slot);
  }
}
