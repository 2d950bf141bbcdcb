// Starts the agent's parts in order and stops them in reverse. A part that fails to stop, or does
// not stop within its deadline, is logged and left behind: the parts after it (down to the
// database) still stop, so one stuck socket never keeps the agent from shutting down.

import type { Clock, TimerHandle } from "./clock.js";
import { errorMessage } from "./errors.js";
import type { Logger } from "./log.js";
import type { Lifecycle } from "./ports.js";

/** How long one part may take to stop unless it says otherwise. */
export const STOP_DEADLINE_MS = 10_000;

export interface Part {
  /** Names the part in log lines ("hooks", "upstream", "database"). */
  readonly name: string;
  readonly part: Lifecycle;
  /** Default STOP_DEADLINE_MS. */
  readonly stopDeadlineMs?: number;
}

/** Adapts a part whose start or stop is synchronous, or that has only one of them, to Lifecycle. */
export function lifecycle(p: { start?: () => unknown; stop?: () => unknown }): Lifecycle {
  return {
    start: async () => {
      await p.start?.();
    },
    stop: async () => {
      await p.stop?.();
    },
  };
}

export class LifecycleRunner {
  readonly #clock: Clock;
  readonly #log: Logger;
  #started: Part[] = [];

  constructor(opts: { clock: Clock; log: Logger }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
  }

  /**
   * Starts the parts one after the other. When one fails, its error is thrown and the parts started
   * before it stay recorded, so stop() still stops them.
   */
  async start(parts: readonly Part[]): Promise<void> {
    for (const p of parts) {
      await p.part.start();
      this.#started.push(p);
    }
  }

  /** Stops every started part, last started first; never throws. */
  async stop(): Promise<void> {
    const parts = this.#started.reverse();
    this.#started = [];
    for (const p of parts) await this.#stopOne(p);
  }

  async #stopOne(p: Part): Promise<void> {
    const deadlineMs = p.stopDeadlineMs ?? STOP_DEADLINE_MS;
    let timer: TimerHandle | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = this.#clock.setTimeout(() => resolve("late"), deadlineMs);
    });
    try {
      const outcome = await Promise.race([p.part.stop().then(() => "stopped" as const), late]);
      if (outcome === "late") {
        this.#log.error(
          { part: p.name, deadlineMs },
          `${p.name} did not stop within ${deadlineMs} ms; stopping the other parts without waiting for it`,
        );
      }
    } catch (err) {
      this.#log.error({ err, part: p.name }, `error while stopping ${p.name}: ${errorMessage(err)}`);
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }
}
