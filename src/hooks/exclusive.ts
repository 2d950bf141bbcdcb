// Interceptors only one hook may own (EXCLUSIVE_METHODS, docs/hooks.md#exclusive-interceptors): two
// hooks both deciding a device's status would overrule each other in an order nobody chose. The
// first running hook that defines such a method owns it; another hook defining it is refused at
// load with a message naming both. A refused hook is tried again once the owner is gone (unloaded,
// deleted, or reloaded without the method), so editing either file resolves the conflict.

import { EXCLUSIVE_METHODS } from "./types.js";

/** A hook as ownership sees it: a running hook, or one about to be loaded. */
export interface MethodHolder {
  name: string;
  file: string;
  methods: ReadonlySet<string> | readonly string[];
}

function has(h: MethodHolder, method: string): boolean {
  return Array.isArray(h.methods) ? h.methods.includes(method) : (h.methods as ReadonlySet<string>).has(method);
}

/**
 * The refusal of `candidate` when it defines an exclusive method another of `holders` already
 * defines (a hook of the same name is the candidate's own previous version: no conflict).
 */
export function exclusiveConflict(
  candidate: MethodHolder,
  holders: readonly MethodHolder[],
): { method: string; message: string } | undefined {
  for (const [method, what] of Object.entries(EXCLUSIVE_METHODS)) {
    if (!has(candidate, method)) continue;
    const owner = holders.find((h) => h.name !== candidate.name && has(h, method));
    if (owner === undefined) continue;
    return {
      method,
      message:
        `${candidate.file}: ${method} is already owned by hook '${owner.name}' (${owner.file}); ` +
        `only one hook may intercept ${what} — remove the method from one of them`,
    };
  }
  return undefined;
}

/** Which hooks were refused for an exclusive method, so the rescan can retry them once it is free. */
export class ExclusiveGuard {
  readonly #refused = new Map<string, string>();

  /** The refusal message for `candidate` among the running `holders`, or undefined (and forgotten). */
  check(candidate: MethodHolder, holders: readonly MethodHolder[]): string | undefined {
    const c = exclusiveConflict(candidate, holders);
    if (c === undefined) {
      this.#refused.delete(candidate.name);
      return undefined;
    }
    this.#refused.set(candidate.name, c.method);
    return c.message;
  }

  /** True when `name` was refused and no running hook other than it defines that method any more. */
  retry(name: string, holders: () => readonly MethodHolder[]): boolean {
    if (this.#refused.size === 0) return false;
    const method = this.#refused.get(name);
    if (method === undefined) return false;
    return !holders().some((h) => h.name !== name && has(h, method));
  }

  forget(name: string): void {
    this.#refused.delete(name);
  }
}
