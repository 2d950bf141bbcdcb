// Which hook code is running right now, kept in shared memory so that a watchdog thread can read it
// while the main thread is stuck inside that code. The main thread writes a few integers around
// every hook call (no allocation, no lock); the watchdog only reads them. Names live in a table the
// watchdog is told about when a hook is registered, so the shared block holds numbers only.

import { HOOK_METHODS } from "./types.js";

/** Method ids: the hook methods, then the moments that run hook code outside a method. */
export const ACTIVITY_METHODS: readonly string[] = [...HOOK_METHODS, "import", "constructor"];
const METHOD_ID = new Map(ACTIVITY_METHODS.map((m, i) => [m, i]));

/** The id of a method name for `enter` (look it up once, not per call). */
export function methodId(method: string): number {
  return METHOD_ID.get(method) ?? 0;
}

/** Hook ids that can have an in-flight counter; more hooks than this are tracked without one. */
export const MAX_TRACKED_HOOKS = 256;

/** Int32 slots of the shared block. */
export const SLOT = {
  /** Incremented by the main loop on every heartbeat. */
  heartbeat: 0,
  /** Hook id + 1 of the synchronous hook code now running, 0 when none. */
  hook: 1,
  /** Method id (index in ACTIVITY_METHODS) of that code. */
  method: 2,
  /** First of MAX_TRACKED_HOOKS counters of asynchronous calls in flight, per hook id. */
  inFlight: 4,
} as const;

export interface HookIdentity {
  id: number;
  name: string;
  file: string;
  /** sha256 of the file content that was loaded (what a quarantine is keyed on). */
  sha256: string;
}

export interface Running {
  hook: HookIdentity;
  method: string;
}

export class HookActivity {
  readonly buffer = new SharedArrayBuffer(4 * (SLOT.inFlight + MAX_TRACKED_HOOKS));
  readonly #a = new Int32Array(this.buffer);
  readonly #byName = new Map<string, HookIdentity>();
  readonly #byId: HookIdentity[] = [];
  readonly #listeners = new Set<(h: HookIdentity) => void>();

  /** The id of a hook (stable per name for the life of the process); updates its file and hash. */
  register(name: string, file: string, sha256: string): HookIdentity {
    let h = this.#byName.get(name);
    if (h === undefined) {
      h = { id: this.#byId.length, name, file, sha256 };
      this.#byName.set(name, h);
      this.#byId.push(h);
    } else {
      h.file = file;
      h.sha256 = sha256;
    }
    for (const l of this.#listeners) l(h);
    return h;
  }

  /** Called for every registration (the watchdog mirrors the table into its thread). */
  onRegister(listener: (h: HookIdentity) => void): () => void {
    this.#listeners.add(listener);
    for (const h of this.#byId) listener(h);
    return () => this.#listeners.delete(listener);
  }

  identities(): readonly HookIdentity[] {
    return this.#byId;
  }

  /** Marks hook code as running; returns what was running before, for `leave`. */
  // Plain (non-Atomics) reads and writes on purpose: this runs around every hook call, only this
  // thread writes, aligned 32-bit stores cannot tear, and the watchdog looks only after the main
  // thread has been stuck for seconds, long after the stores became visible.
  enter(hookId: number, method: number): number {
    const a = this.#a;
    const prev = (a[SLOT.hook] as number) * 1024 + (a[SLOT.method] as number);
    a[SLOT.method] = method;
    a[SLOT.hook] = hookId + 1;
    return prev;
  }

  leave(prev: number): void {
    const a = this.#a;
    a[SLOT.hook] = (prev / 1024) | 0;
    a[SLOT.method] = prev % 1024;
  }

  /** An asynchronous hook call started (its later continuations are not attributable otherwise). */
  asyncStart(hookId: number): void {
    if (hookId < MAX_TRACKED_HOOKS) Atomics.add(this.#a, SLOT.inFlight + hookId, 1);
  }

  asyncEnd(hookId: number): void {
    if (hookId < MAX_TRACKED_HOOKS) Atomics.sub(this.#a, SLOT.inFlight + hookId, 1);
  }

  beat(): void {
    Atomics.add(this.#a, SLOT.heartbeat, 1);
  }

  /** The synchronous hook code running now, if any. */
  current(): Running | undefined {
    const id = Atomics.load(this.#a, SLOT.hook) - 1;
    const hook = this.#byId[id];
    if (hook === undefined) return undefined;
    return { hook, method: ACTIVITY_METHODS[Atomics.load(this.#a, SLOT.method)] ?? "unknown" };
  }

  /** The hook whose file is `file` (a path, or a file URL with a cache-busting query). */
  byFile(file: string): HookIdentity | undefined {
    for (const h of this.#byId) if (file.includes(h.file)) return h;
    return undefined;
  }
}
