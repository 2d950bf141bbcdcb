// The hook manager's activity table (what the watchdog reads), also counting which hook methods
// were entered, so a test can wait until a hook has handled an event and has nothing in flight:
// a "the hook did nothing" check made after that can fail, unlike one made after a turn of the
// event loop.

import { HookActivity, methodId, SLOT } from "../../src/hooks/activity.js";

export class ObservedActivity extends HookActivity {
  readonly #entered = new Map<string, number>();

  override enter(hookId: number, method: number): number {
    const k = `${hookId}:${method}`;
    this.#entered.set(k, (this.#entered.get(k) ?? 0) + 1);
    return super.enter(hookId, method);
  }

  /** True once hook `name` was called for `method` and none of its asynchronous calls is still running. */
  handled(name: string, method: string): boolean {
    const h = this.identities().find((i) => i.name === name);
    if (h === undefined || (this.#entered.get(`${h.id}:${methodId(method)}`) ?? 0) === 0) return false;
    return Atomics.load(new Int32Array(this.buffer), SLOT.inFlight + h.id) === 0;
  }
}
