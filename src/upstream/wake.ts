// Wakes delivery when alarm changes were committed. A committed batch emits one event per changed
// alarm; the dispatcher reads the whole outbox when woken, so one wake-up per batch is enough:
// events of the same turn of the event loop are coalesced into one kick on the next.

import type { EventBus } from "../core/events.js";
import type { Lifecycle } from "../core/ports.js";

export class DeliveryWake implements Lifecycle {
  readonly #events: EventBus;
  readonly #kick: () => void;
  #queued = false;
  readonly #offs: (() => void)[] = [];

  constructor(opts: { events: EventBus; kick: () => void }) {
    this.#events = opts.events;
    this.#kick = opts.kick;
  }

  /** Listens to committed alarm changes. */
  async start(): Promise<void> {
    if (this.#offs.length > 0) return;
    const wake = () => this.wake();
    this.#offs.push(
      this.#events.on("alarmCreated", wake),
      this.#events.on("alarmUpdated", wake),
      this.#events.on("alarmResolved", wake),
    );
  }

  /** Stops listening (a kick already queued still happens; the dispatcher ignores it once stopped). */
  async stop(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
  }

  /** Kicks delivery once on the next turn of the event loop, however often it is called before. */
  wake(): void {
    if (this.#queued) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      this.#kick();
    });
  }
}
