// A named method of a running hook called on demand (a task's "hook" action, docs/tasks.md): the
// method gets the action's `args` and the hook's ctx, under the same containment as every other
// hook call (hooks.timeoutMs, error counting, the activity the watchdog reads). The methods the
// agent itself calls (onReading, beforeAlarm, start…) are not callable this way: they expect the
// agent's own arguments.

import type { AnyFn, CallTarget, HookCaller } from "./call.js";
import { HOOK_METHODS, type Hook, type HookContext } from "./types.js";

export interface InvokableSlot extends CallTarget {
  hook: Hook | null;
  ctx: HookContext;
  state: string;
}

export class HookInvokeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HookInvokeError";
  }
}

/** Calls `method(args, ctx)` of the hook in `slot`; rejects with a sentence naming the hook and method. */
export async function invokeHookMethod(
  caller: HookCaller,
  slot: InvokableSlot | undefined,
  hook: string,
  method: string,
  args: unknown,
): Promise<unknown> {
  if (slot === undefined)
    throw new HookInvokeError(`no hook named "${hook}" is loaded (see edge-agent hooks / GET /hooks)`);
  if (slot.state !== "running" || slot.hook === null) {
    throw new HookInvokeError(
      `hook ${hook} is ${slot.state}, not running${slot.lastError ? ` (${slot.lastError})` : ""}`,
    );
  }
  if (HOOK_METHODS.includes(method) || method.startsWith("_")) {
    throw new HookInvokeError(
      `hook ${hook}: ${method} cannot be called by a task (${method.startsWith("_") ? "a name starting with _ is private" : "the agent calls it with its own arguments"}); give the hook a method of its own, called as method(args, ctx)`,
    );
  }
  const h = slot.hook as unknown as Record<string, unknown>;
  const fn = h[method];
  if (typeof fn !== "function") throw new HookInvokeError(`hook ${hook} has no method ${method}(args, ctx)`);
  const errorsBefore = slot.errors;
  const timeoutsBefore = slot.timeouts;
  const res = await caller.call(slot, method, () => (fn as AnyFn).call(slot.hook, args, slot.ctx));
  if (res.ok) return res.value;
  const why =
    slot.timeouts > timeoutsBefore
      ? `did not finish within ${caller.timeoutMs} ms (hooks.timeoutMs)`
      : slot.errors > errorsBefore
        ? `threw: ${stripPrefix(slot.lastError ?? "an error", `${method}: `)}`
        : "failed";
  throw new HookInvokeError(`hook ${hook}: ${method} ${why}`);
}

function stripPrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}
