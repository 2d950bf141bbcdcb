// Call containment: every piece of hook code the agent runs goes through here. A throw or rejection
// is logged, counted and turned into a failed result; an asynchronous call that outlives
// hooks.timeoutMs on the injected clock is abandoned. Around every synchronous stretch of hook code
// (methods, the module's top-level code during import, a class constructor) the running hook is
// marked in HookActivity, so the watchdog and the exit guard can name the hook that froze or ended
// the process.
//
// A typed hook error (ProcessingError, InvalidDataInput, PermissionDenied) is a refusal, not a bug:
// where the method may refuse (`refusable`), it comes back as the call's answer; elsewhere it is a
// failure like any throw, logged with its name and message only (its stack says nothing useful).

import type { Clock } from "../core/clock.js";
import { AgentError, errFields, errorMessage } from "../core/errors.js";
import { type HookErrorKind, hookErrorKind } from "../core/hook-errors.js";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import { type HookActivity, methodId } from "./activity.js";
import type { Hook, HookContext } from "./types.js";

/** What the containment reads and updates of a loaded hook (its counters show on /hooks). */
export interface CallTarget {
  /** HookActivity id. */
  id: number;
  name: string;
  errors: number;
  timeouts: number;
  lastError?: string;
}

/** A typed error thrown by a method that may refuse: `kind` says which, `error` carries message and fields. */
export interface Refusal {
  kind: HookErrorKind;
  error: Error;
}

/** What an interceptor call needs of a loaded hook. */
export interface InterceptorSlot extends CallTarget {
  hook: Hook | null;
  ctx: HookContext;
  methods: ReadonlySet<string>;
}

export type CallResult = { ok: true; value: unknown } | { ok: false; refusal?: Refusal };
export const FAILED: CallResult = { ok: false };

export type AnyFn = (...args: unknown[]) => unknown;

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

const IMPORT_ID = methodId("import");
const CONSTRUCTOR_ID = methodId("constructor");

export interface HookCallerOptions {
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  activity: HookActivity;
  timeoutMs: number;
}

export class HookCaller {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #activity: HookActivity;
  readonly timeoutMs: number;
  readonly #errorsTotal: Counter;
  readonly #timeoutsTotal: Counter;

  constructor(o: HookCallerOptions) {
    this.#clock = o.clock;
    this.#log = o.log;
    this.#activity = o.activity;
    this.timeoutMs = o.timeoutMs;
    this.#errorsTotal = o.metrics.counter("edge_hook_errors_total", "Hook calls that threw, by hook and method");
    this.#timeoutsTotal = o.metrics.counter(
      "edge_hook_timeouts_total",
      "Hook calls abandoned after hooks.timeoutMs, by hook and method",
    );
  }

  /**
   * Runs `load` (an import) marked as the hook's top-level code: it runs during the import, and may
   * block the event loop or end the process before the hook is even known to the manager.
   * Rejections pass through: a module that does not import is the loader's failure, not a call's.
   */
  async importing<T>(hookId: number, load: () => Promise<T>): Promise<T> {
    const prev = this.#activity.enter(hookId, IMPORT_ID);
    try {
      return await load();
    } finally {
      this.#activity.leave(prev);
    }
  }

  /** Runs a hook class's constructor marked as that hook's code. Throws pass through. */
  constructing<T>(hookId: number, make: () => T): T {
    const prev = this.#activity.enter(hookId, CONSTRUCTOR_ID);
    try {
      return make();
    } finally {
      this.#activity.leave(prev);
    }
  }

  /**
   * An observer call without per-call allocation when the hook answers synchronously (the common
   * case): undefined when it is over (a throw is already contained), the pending result otherwise.
   */
  observe(
    target: CallTarget,
    method: string,
    mid: number,
    fn: AnyFn,
    hook: Hook,
    args: unknown[],
    ctx: HookContext,
  ): Promise<CallResult> | undefined {
    let r: unknown;
    const prev = this.#activity.enter(target.id, mid);
    try {
      switch (args.length) {
        case 1:
          r = fn.call(hook, args[0], ctx);
          break;
        case 2:
          r = fn.call(hook, args[0], args[1], ctx);
          break;
        case 3:
          r = fn.call(hook, args[0], args[1], args[2], ctx);
          break;
        default:
          r = fn.call(hook, ...args, ctx);
      }
    } catch (err) {
      this.failure(target, method, err);
      return undefined;
    } finally {
      this.#activity.leave(prev);
    }
    if (!isThenable(r)) return undefined;
    return this.call(target, method, () => r) as Promise<CallResult>;
  }

  /**
   * Calls a hook method with containment: a throw or rejection is logged and counted, a timeout
   * abandons it. With `refusable`, a typed hook error is answered as a refusal instead.
   */
  call(target: CallTarget, method: string, thunk: () => unknown, refusable = false): Promise<CallResult> | CallResult {
    let r: unknown;
    const prev = this.#activity.enter(target.id, methodId(method));
    try {
      r = thunk();
    } catch (err) {
      return this.#failed(target, method, err, refusable);
    } finally {
      this.#activity.leave(prev);
    }
    if (!isThenable(r)) return { ok: true, value: r };
    return this.#settle(target, method, r, refusable);
  }

  #failed(target: CallTarget, method: string, err: unknown, refusable: boolean): CallResult {
    if (refusable) {
      const kind = hookErrorKind(err);
      if (kind !== null) return { ok: false, refusal: { kind, error: err as Error } };
    }
    this.failure(target, method, err);
    return FAILED;
  }

  #settle(target: CallTarget, method: string, r: PromiseLike<unknown>, refusable: boolean): Promise<CallResult> {
    // Counted so the watchdog can name suspects when a continuation of an async call blocks.
    this.#activity.asyncStart(target.id);
    return new Promise<CallResult>((resolve) => {
      let settled = false;
      const timer = this.#clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        target.timeouts++;
        target.lastError = `${method} timed out after ${this.timeoutMs} ms`;
        this.#timeoutsTotal.inc({ hook: target.name, method });
        const err = new AgentError(
          "EA_HOOK_TIMEOUT",
          `hook ${target.name}: ${method} did not finish within ${this.timeoutMs} ms (hooks.timeoutMs); call abandoned`,
        );
        this.#log.warn({ hook: target.name, method, ...errFields(err) }, err.message);
        resolve(FAILED);
      }, this.timeoutMs);
      r.then(
        (value) => {
          this.#activity.asyncEnd(target.id);
          if (settled) return;
          settled = true;
          this.#clock.clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (err: unknown) => {
          this.#activity.asyncEnd(target.id);
          if (settled) {
            this.#log.debug({ hook: target.name, method, err }, "abandoned hook call failed later");
            return;
          }
          settled = true;
          this.#clock.clearTimeout(timer);
          resolve(this.#failed(target, method, err, refusable));
        },
      );
    });
  }

  /**
   * Records a failed call: counted per hook and method, logged with the hook's name and the stack
   * (a typed hook error thrown where it means nothing: with its name and message only).
   */
  failure(target: CallTarget, method: string, err: unknown): void {
    target.errors++;
    target.lastError = `${method}: ${errorMessage(err)}`;
    this.#errorsTotal.inc({ hook: target.name, method });
    if (hookErrorKind(err) !== null) {
      const e = err as Error;
      this.#log.error(
        { hook: target.name, method, error: e.name, reason: e.message },
        `hook ${target.name}: ${method} threw ${e.name}: ${e.message} (only beforeDeviceStatus and beforeRequest can refuse; here it is an error like any other)`,
      );
      return;
    }
    this.#log.error(
      { hook: target.name, method, ...errFields(err) },
      `hook ${target.name}: ${method} threw: ${errorMessage(err)}`,
    );
  }
}
